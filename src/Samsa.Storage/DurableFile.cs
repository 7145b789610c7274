using System.Runtime.InteropServices;

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

    /// <summary>
    /// Makes a rename or create in <paramref name="dir"/> durable (fsync of the directory, as Kafka's Utils.flushDir).
    /// .NET refuses to open a directory as a file handle, so on Unix this goes through libc open(2)/fsync(2).
    /// Returns false when the platform or file system does not support it (best effort there, as Kafka).
    /// </summary>
    public static bool FsyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return false;
        int fd = Native.Open(dir, 0 /* O_RDONLY */);
        if (fd < 0) return false;
        try
        {
            return Native.Fsync(fd) == 0;
        }
        finally
        {
            Native.Close(fd);
        }
    }

    private static class Native
    {
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static extern int Fsync(int fd);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        public static extern int Close(int fd);
    }
}
