namespace Samsa.Protocol.Tests;

public sealed class CodecErrorCodeTests
{
    private const string ReferencePath = "/work/shared/kafka-protocol/error-codes.tsv";

    [Fact]
    public void ErrorCodesMatchKafkasTable()
    {
        // The reference copy lives outside the repository; skip silently where it is absent.
        if (!File.Exists(ReferencePath)) return;
        var rows = File.ReadAllLines(ReferencePath).Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t')).ToList();
        foreach (var row in rows)
        {
            short code = short.Parse(row[0]);
            string expected = string.Concat(row[1].Split('_').Select(w => w[..1] + w[1..].ToLowerInvariant()));
            Assert.True(Enum.IsDefined((ErrorCode)code), $"missing error code {code} {row[1]}");
            Assert.Equal(expected, ((ErrorCode)code).ToString());
        }
        Assert.Equal(rows.Count, Enum.GetValues<ErrorCode>().Length);
    }

    [Fact]
    public void WellKnownValues()
    {
        Assert.Equal(-1, (short)ErrorCode.UnknownServerError);
        Assert.Equal(0, (short)ErrorCode.None);
        Assert.Equal(3, (short)ErrorCode.UnknownTopicOrPartition);
        Assert.Equal(35, (short)ErrorCode.UnsupportedVersion);
    }
}
