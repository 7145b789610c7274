// Each cluster test starts 3-5 broker processes; on the 2-core CI machine, test classes running side by side starve
// each other's heartbeats (spurious fencing, elections) and make timings meaningless. One test at a time.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
