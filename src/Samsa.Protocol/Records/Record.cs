using System.Buffers;
using System.Text;

namespace Samsa.Protocol.Records;

/// <summary>A record header: a non-null UTF-8 key and a nullable value.</summary>
public readonly record struct RecordHeader(string Key, ReadOnlyMemory<byte>? Value);

/// <summary>
/// One record inside a v2 batch (Kafka's DefaultRecord):
/// <code>
/// length: varint             (bytes after this field)
/// attributes: int8           (unused, 0)
/// timestampDelta: varlong    (relative to the batch's baseTimestamp)
/// offsetDelta: varint        (relative to the batch's baseOffset)
/// keyLength: varint, key     (-1 = null)
/// valueLength: varint, value (-1 = null)
/// headerCount: varint, then per header: keyLength varint, key (UTF-8, never null), valueLength varint (-1 = null), value
/// </code>
/// All varints zig-zag. Decoded records slice the buffer they were read from (no copy); they are valid as long as it is.
/// </summary>
public readonly struct Record
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public Record(int offsetDelta, long timestampDelta, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value,
        IReadOnlyList<RecordHeader>? headers = null, byte attributes = 0)
    {
        OffsetDelta = offsetDelta;
        TimestampDelta = timestampDelta;
        Key = key;
        Value = value;
        Headers = headers ?? [];
        Attributes = attributes;
    }

    public byte Attributes { get; }
    public int OffsetDelta { get; }
    public long TimestampDelta { get; }
    public ReadOnlyMemory<byte>? Key { get; }
    public ReadOnlyMemory<byte>? Value { get; }
    public IReadOnlyList<RecordHeader> Headers => field ?? [];

    /// <summary>Absolute offset given the batch's base offset.</summary>
    public long OffsetIn(long baseOffset) => baseOffset + OffsetDelta;

    /// <summary>Absolute timestamp given the batch's base timestamp (CreateTime batches).</summary>
    public long TimestampIn(long baseTimestamp) => baseTimestamp + TimestampDelta;

    /// <summary>Size of the record after its length prefix.</summary>
    public int BodySize
    {
        get
        {
            int size = 1 + ZigZagVarint.SizeOf(TimestampDelta) + ZigZagVarint.SizeOf(OffsetDelta)
                + SizeOfBytes(Key) + SizeOfBytes(Value);
            var headers = Headers;
            size += ZigZagVarint.SizeOf(headers.Count);
            for (int i = 0; i < headers.Count; i++)
            {
                int keyLength = Encoding.UTF8.GetByteCount(headers[i].Key);
                size += ZigZagVarint.SizeOf(keyLength) + keyLength + SizeOfBytes(headers[i].Value);
            }
            return size;
        }
    }

    /// <summary>Total encoded size, length prefix included.</summary>
    public int SizeInBytes
    {
        get
        {
            int body = BodySize;
            return ZigZagVarint.SizeOf(body) + body;
        }
    }

    private static int SizeOfBytes(ReadOnlyMemory<byte>? bytes) =>
        bytes is { } b ? ZigZagVarint.SizeOf(b.Length) + b.Length : 1;

    /// <summary>Appends the encoded record to <paramref name="destination"/>; returns the bytes written.</summary>
    public int WriteTo(IBufferWriter<byte> destination)
    {
        int body = BodySize;
        int total = ZigZagVarint.SizeOf(body) + body;
        Write(destination.GetSpan(total), body);
        destination.Advance(total);
        return total;
    }

    /// <summary>Encodes the record at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination) => Write(destination, BodySize);

    private int Write(Span<byte> span, int body)
    {
        int p = ZigZagVarint.Write(span, body);
        span[p++] = Attributes;
        p += ZigZagVarint.Write(span[p..], TimestampDelta);
        p += ZigZagVarint.Write(span[p..], OffsetDelta);
        p += WriteBytes(span[p..], Key);
        p += WriteBytes(span[p..], Value);
        var headers = Headers;
        p += ZigZagVarint.Write(span[p..], headers.Count);
        for (int i = 0; i < headers.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(headers[i].Key, "header key");
            int keyLength = Encoding.UTF8.GetByteCount(headers[i].Key);
            p += ZigZagVarint.Write(span[p..], keyLength);
            p += Encoding.UTF8.GetBytes(headers[i].Key, span[p..]);
            p += WriteBytes(span[p..], headers[i].Value);
        }
        return p;
    }

    private static int WriteBytes(Span<byte> span, ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } b) return ZigZagVarint.Write(span, -1);
        int p = ZigZagVarint.Write(span, b.Length);
        b.Span.CopyTo(span[p..]);
        return p + b.Length;
    }

    /// <summary>
    /// Decodes one record at the start of <paramref name="source"/>. Returns <see cref="RecordBatchError.None"/> and the
    /// bytes consumed, <see cref="RecordBatchError.Truncated"/> if the source ends early, or
    /// <see cref="RecordBatchError.InvalidRecord"/>. Never allocates in proportion to declared (unverified) lengths.
    /// </summary>
    public static RecordBatchError TryRead(ReadOnlyMemory<byte> source, out Record record, out int bytesConsumed)
    {
        record = default;
        bytesConsumed = 0;
        ReadOnlySpan<byte> span = source.Span;
        int n = ZigZagVarint.TryRead(span, out int bodyLength);
        if (n == 0) return RecordBatchError.Truncated;
        if (n < 0 || bodyLength < 1) return RecordBatchError.InvalidRecord;
        if (bodyLength > span.Length - n) return RecordBatchError.Truncated;
        int start = n;
        int end = n + bodyLength;
        ReadOnlyMemory<byte> body = source[..end];
        span = span[..end];

        int p = start;
        byte attributes = span[p++];
        if ((n = ZigZagVarint.TryRead(span[p..], out long timestampDelta)) <= 0) return RecordBatchError.InvalidRecord;
        p += n;
        if ((n = ZigZagVarint.TryRead(span[p..], out int offsetDelta)) <= 0) return RecordBatchError.InvalidRecord;
        p += n;
        if (!TryReadBytes(body, ref p, out ReadOnlyMemory<byte>? key)) return RecordBatchError.InvalidRecord;
        if (!TryReadBytes(body, ref p, out ReadOnlyMemory<byte>? value)) return RecordBatchError.InvalidRecord;
        if ((n = ZigZagVarint.TryRead(span[p..], out int headerCount)) <= 0) return RecordBatchError.InvalidRecord;
        p += n;
        // Each header takes at least two bytes; reject counts the body cannot hold before allocating.
        if (headerCount < 0 || headerCount > (end - p) / 2) return RecordBatchError.InvalidRecord;
        RecordHeader[] headers = headerCount == 0 ? [] : new RecordHeader[headerCount];
        for (int i = 0; i < headerCount; i++)
        {
            if (!TryReadBytes(body, ref p, out ReadOnlyMemory<byte>? headerKey) || headerKey is not { } hk)
                return RecordBatchError.InvalidRecord;
            string keyString;
            try { keyString = StrictUtf8.GetString(hk.Span); }
            catch (ArgumentException) { return RecordBatchError.InvalidRecord; }
            if (!TryReadBytes(body, ref p, out ReadOnlyMemory<byte>? headerValue)) return RecordBatchError.InvalidRecord;
            headers[i] = new RecordHeader(keyString, headerValue);
        }
        if (p != end) return RecordBatchError.InvalidRecord;

        record = new Record(offsetDelta, timestampDelta, key, value, headers, attributes);
        bytesConsumed = end;
        return RecordBatchError.None;
    }

    /// <summary>As <see cref="TryRead"/> but throws <see cref="RecordFormatException"/>.</summary>
    public static Record Read(ReadOnlyMemory<byte> source, out int bytesConsumed)
    {
        var error = TryRead(source, out Record record, out bytesConsumed);
        if (error != RecordBatchError.None)
            throw new RecordFormatException(error == RecordBatchError.Truncated ? RecordBatchError.InvalidRecord : error,
                "Malformed record.");
        return record;
    }

    /// <summary>Skips one record, checking only its length prefix; returns bytes skipped, 0 if truncated, -1 if invalid.</summary>
    internal static int Skip(ReadOnlySpan<byte> source)
    {
        int n = ZigZagVarint.TryRead(source, out int bodyLength);
        if (n <= 0) return n;
        if (bodyLength < 1) return -1;
        if (bodyLength > source.Length - n) return 0;
        return n + bodyLength;
    }

    private static bool TryReadBytes(ReadOnlyMemory<byte> body, ref int position, out ReadOnlyMemory<byte>? bytes)
    {
        bytes = null;
        int n = ZigZagVarint.TryRead(body.Span[position..], out int length);
        if (n <= 0 || length < -1) return false;
        position += n;
        if (length == -1) return true;
        if (length > body.Length - position) return false;
        bytes = body.Slice(position, length);
        position += length;
        return true;
    }
}
