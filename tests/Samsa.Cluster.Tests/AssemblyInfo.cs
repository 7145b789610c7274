// Each test starts three or more `samsa server` processes; run one at a time so two shared cores are not starved
// (election and session timeouts are short in these clusters, and a starved node looks like a dead one).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
