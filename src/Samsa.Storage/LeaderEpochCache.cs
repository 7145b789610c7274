using System.Globalization;
using System.Text;

namespace Samsa.Storage;

/// <summary>
/// Leader epoch → start offset history of a partition (Kafka's "leader-epoch-checkpoint"), used by followers to find
/// where their log diverges from the leader's. File format (text, Kafka's): line "0" (version), line with the entry
/// count, then one "epoch startOffset" line per entry in increasing order of both.
/// Thread-safety: all members lock the instance.
/// </summary>
internal sealed class LeaderEpochCache
{
    private readonly Lock _lock = new();
    private readonly string _path;
    private readonly List<(int Epoch, long StartOffset)> _entries = new();

    public LeaderEpochCache(string dir)
    {
        _path = Path.Combine(dir, FileNames.LeaderEpochCheckpointFile);
        if (!File.Exists(_path)) return;
        try
        {
            var lines = File.ReadAllLines(_path);
            if (lines.Length < 2 || lines[0].Trim() != "0") return;
            int count = int.Parse(lines[1].Trim(), CultureInfo.InvariantCulture);
            for (int i = 0; i < count && i + 2 < lines.Length; i++)
            {
                var parts = lines[i + 2].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                _entries.Add((int.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture)));
            }
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or OverflowException)
        {
            _entries.Clear();
        }
    }

    public IReadOnlyList<(int Epoch, long StartOffset)> Entries { get { lock (_lock) return _entries.ToArray(); } }

    public int LatestEpoch { get { lock (_lock) return _entries.Count == 0 ? -1 : _entries[^1].Epoch; } }

    /// <summary>Records that <paramref name="epoch"/> starts at <paramref name="startOffset"/> if it is newer than the latest.</summary>
    public void Assign(int epoch, long startOffset)
    {
        if (epoch < 0) return;
        lock (_lock)
        {
            if (_entries.Count > 0 && _entries[^1].Epoch >= epoch) return;
            _entries.RemoveAll(e => e.StartOffset >= startOffset);
            _entries.Add((epoch, startOffset));
            Persist();
        }
    }

    /// <summary>
    /// The end offset of <paramref name="epoch"/> (start of the next epoch, or the log end for the latest), Kafka's
    /// OffsetsForLeaderEpoch answer: (largest known epoch ≤ it, its end offset); (-1, -1) for an undefined epoch or one
    /// newer than every known epoch; (epoch, start of the first known epoch) for one older than every known epoch.
    /// </summary>
    public (int Epoch, long EndOffset) EndOffsetFor(int epoch, long logEndOffset)
    {
        lock (_lock)
        {
            if (epoch < 0 || _entries.Count == 0) return (-1, -1);
            if (_entries[^1].Epoch == epoch) return (epoch, logEndOffset);
            int higher = _entries.FindIndex(e => e.Epoch > epoch);
            if (higher < 0) return (-1, -1);
            if (higher == 0) return (epoch, _entries[0].StartOffset);
            return (_entries[higher - 1].Epoch, _entries[higher].StartOffset);
        }
    }

    /// <summary>Removes epochs starting at or after <paramref name="offset"/> (log truncated to it).</summary>
    public void TruncateFromEnd(long offset)
    {
        lock (_lock)
        {
            if (_entries.RemoveAll(e => e.StartOffset >= offset) > 0) Persist();
        }
    }

    /// <summary>Log start moved: the epoch covering it now starts there.</summary>
    public void TruncateFromStart(long offset)
    {
        lock (_lock)
        {
            int covering = _entries.FindLastIndex(e => e.StartOffset <= offset);
            if (covering <= 0 && (covering < 0 || _entries[0].StartOffset == offset)) return;
            var epoch = _entries[covering].Epoch;
            _entries.RemoveRange(0, covering + 1);
            _entries.Insert(0, (epoch, offset));
            Persist();
        }
    }

    private void Persist()
    {
        var sb = new StringBuilder();
        sb.Append("0\n").Append(_entries.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (epoch, start) in _entries)
            sb.Append(epoch.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(start.ToString(CultureInfo.InvariantCulture)).Append('\n');
        DurableFile.WriteAtomically(_path, sb.ToString());
    }
}
