namespace Samsa.Storage;

/// <summary>Small metadata files written crash-safely: temp file, fsync, rename over the target, fsync the directory.</summary>
internal static class DurableFile
{
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        string tmp = path + FileNames.TmpSuffix;
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(path)!);
    }

    public static void WriteAtomically(string path, string content) =>
        WriteAtomically(path, System.Text.Encoding.UTF8.GetBytes(content));

    /// <summary>Makes a rename or create durable. Best effort: not every platform lets a directory be opened.</summary>
    public static void FsyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var handle = File.OpenHandle(dir, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
