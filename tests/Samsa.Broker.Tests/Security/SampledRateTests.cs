using Samsa.Broker.Quotas;

namespace Samsa.Broker.Tests.Security;

/// <summary>The quota rate and throttle arithmetic (Kafka's Rate over 11 one-second samples).</summary>
public sealed class SampledRateTests
{
    [Fact]
    public void A_new_sensor_spreads_its_first_values_over_samples_minus_one_windows()
    {
        var rate = new SampledRate(11, 1000);
        // 10 000 bytes in the first instant: rate = 10 000 / 10 s.
        Assert.Equal(1000, rate.Record(10_000, 5_000), 3);
        Assert.Equal(10_000, rate.WindowSizeMs(5_000));
    }

    [Fact]
    public void Steady_traffic_measures_its_rate_and_old_samples_expire()
    {
        var rate = new SampledRate(11, 1000);
        double measured = 0;
        for (long t = 1_000; t <= 30_000; t += 100) measured = rate.Record(50, t); // 500 bytes/s
        Assert.InRange(measured, 450, 550);
        // After a long pause every sample has expired: the next value counts alone.
        Assert.Equal(10, rate.Record(100, 100_000), 3);
    }

    [Fact]
    public void Unrecord_takes_a_value_back()
    {
        var rate = new SampledRate(11, 1000);
        rate.Record(1000, 2_000);
        rate.Unrecord(1000, 2_000);
        Assert.Equal(0, rate.Record(0, 2_000), 3);
    }
}
