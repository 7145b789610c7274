// Each cluster test starts three to five real node processes. On CI's two cores two clusters at once starve each other's
// heartbeats and elections, so the project runs one test at a time (the other test projects stay parallel).
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
