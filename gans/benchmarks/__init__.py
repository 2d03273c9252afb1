"""The developers' measurements, each a command-line program: the speed of the train step
(`step`), of a population of seeds, of the evaluator classifier and of the metrics, per-layer
times, and the fault-injection check of resuming after a kill (`faults`). Timings print figures;
no test times anything."""
