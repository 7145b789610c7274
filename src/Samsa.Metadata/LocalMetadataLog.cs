using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Samsa.Metadata;

/// <summary>
/// Single-node metadata log: <c>&lt;dir&gt;/metadata.log</c>, one batch per line as
/// <c>&lt;crc32 hex&gt; &lt;json array of records&gt;\n</c>, fsynced per append. On open the file is replayed into the
/// image; a torn or corrupt last line (crash during append) is truncated away and logged.
/// Thread-safety: appends are serialized by a semaphore; <see cref="Image"/> is an immutable snapshot.
/// </summary>
public sealed class LocalMetadataLog : IMetadataLog
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };
    private readonly FileStream _file;
    private readonly SemaphoreSlim _appendLock = new(1, 1);
    private readonly ILogger _logger;
    private volatile MetadataImage _image;

    private LocalMetadataLog(FileStream file, MetadataImage image, ILogger logger)
    {
        _file = file;
        _image = image;
        _logger = logger;
    }

    public MetadataImage Image => _image;

    public event Action<MetadataImage, IReadOnlyList<MetadataRecord>>? Applied;

    public static LocalMetadataLog Open(string directory, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "metadata.log");
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var image = MetadataImage.Empty;
        long validLength = 0;
        using (var reader = new StreamReader(file, Encoding.UTF8, false, 1 << 16, leaveOpen: true))
        {
            string? line;
            long position = 0;
            while ((line = reader.ReadLine()) is not null)
            {
                long next = position + Encoding.UTF8.GetByteCount(line) + 1;
                var batch = TryParse(line);
                if (batch is null || next > file.Length) break;
                image = image.Apply(batch);
                position = validLength = next;
            }
        }
        if (validLength < file.Length)
        {
            logger.LogWarning("Metadata log {Path}: truncating {Bytes} bytes of torn or corrupt tail after batch {Offset}",
                path, file.Length - validLength, image.Offset);
            file.SetLength(validLength);
            file.Flush(true);
        }
        file.Seek(0, SeekOrigin.End);
        return new LocalMetadataLog(file, image, logger);
    }

    public async ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0) return;
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var next = _image.Apply(batch); // validates the batch applies before it is written
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(batch.ToArray(), Json);
            uint crc = Crc32.HashToUInt32(json);
            byte[] line = Encoding.ASCII.GetBytes($"{crc:x8} ").Concat(json).Append((byte)'\n').ToArray();
            long before = _file.Length;
            try
            {
                await _file.WriteAsync(line, CancellationToken.None).ConfigureAwait(false);
                _file.Flush(true);
            }
            catch
            {
                // Never leave a partial line: later batches would follow it and be cut off by replay on restart.
                try
                {
                    _file.SetLength(before);
                    _file.Seek(before, SeekOrigin.Begin);
                }
                catch (IOException)
                {
                }
                throw;
            }
            _image = next;
            _logger.LogDebug("Metadata batch {Offset} applied: {Records}", next.Offset, string.Join(", ", batch.Select(r => r.GetType().Name)));
            if (Applied is { } applied)
            {
                foreach (var subscriber in applied.GetInvocationList().Cast<Action<MetadataImage, IReadOnlyList<MetadataRecord>>>())
                {
                    try
                    {
                        subscriber(next, batch);
                    }
                    catch (Exception e)
                    {
                        // The batch is durable: a subscriber's failure (e.g. opening a log) must not fail the append.
                        _logger.LogError(e, "Applying metadata batch {Offset} in {Subscriber} failed", next.Offset, subscriber.Method.DeclaringType?.Name);
                    }
                }
            }
        }
        finally
        {
            _appendLock.Release();
        }
    }

    private static MetadataRecord[]? TryParse(string line)
    {
        int space = line.IndexOf(' ');
        if (space != 8) return null;
        try
        {
            uint crc = Convert.ToUInt32(line[..8], 16);
            byte[] json = Encoding.UTF8.GetBytes(line[(space + 1)..]);
            if (Crc32.HashToUInt32(json) != crc) return null;
            return JsonSerializer.Deserialize<MetadataRecord[]>(json, Json);
        }
        catch (Exception e) when (e is FormatException or JsonException or OverflowException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync()
    {
        _file.Dispose();
        _appendLock.Dispose();
        return ValueTask.CompletedTask;
    }
}
