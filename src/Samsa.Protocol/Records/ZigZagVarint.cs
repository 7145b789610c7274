namespace Samsa.Protocol.Records;

/// <summary>
/// Zig-zag base-128 varints as used inside v2 records (Kafka's ByteUtils.writeVarint/writeVarlong).
/// An int takes at most 5 bytes, a long at most 10. Readers return the number of bytes consumed,
/// 0 when the input ends mid-varint, and -1 when the encoding is longer than the type allows.
/// </summary>
internal static class ZigZagVarint
{
    public const int MaxInt32Bytes = 5;
    public const int MaxInt64Bytes = 10;

    public static int SizeOf(int value) => SizeOfUnsigned((uint)((value << 1) ^ (value >> 31)));

    public static int SizeOf(long value) => SizeOfUnsigned((ulong)((value << 1) ^ (value >> 63)));

    private static int SizeOfUnsigned(uint v)
    {
        int size = 1;
        while (v >= 0x80) { v >>= 7; size++; }
        return size;
    }

    private static int SizeOfUnsigned(ulong v)
    {
        int size = 1;
        while (v >= 0x80) { v >>= 7; size++; }
        return size;
    }

    public static int Write(Span<byte> destination, int value)
    {
        uint v = (uint)((value << 1) ^ (value >> 31));
        int i = 0;
        while (v >= 0x80)
        {
            destination[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        destination[i++] = (byte)v;
        return i;
    }

    public static int Write(Span<byte> destination, long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        int i = 0;
        while (v >= 0x80)
        {
            destination[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        destination[i++] = (byte)v;
        return i;
    }

    public static int TryRead(ReadOnlySpan<byte> source, out int value)
    {
        uint result = 0;
        for (int i = 0; i < MaxInt32Bytes; i++)
        {
            if (i >= source.Length) { value = 0; return 0; }
            byte b = source[i];
            result |= (uint)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                value = (int)(result >> 1) ^ -(int)(result & 1);
                return i + 1;
            }
        }
        value = 0;
        return -1;
    }

    public static int TryRead(ReadOnlySpan<byte> source, out long value)
    {
        ulong result = 0;
        for (int i = 0; i < MaxInt64Bytes; i++)
        {
            if (i >= source.Length) { value = 0; return 0; }
            byte b = source[i];
            result |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                value = (long)(result >> 1) ^ -(long)(result & 1);
                return i + 1;
            }
        }
        value = 0;
        return -1;
    }
}
