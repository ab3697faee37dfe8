"""spotcheck benchmarks: each one times the pipeline, checks its result, and compares it
with a baseline measured in the same run. Run them with `python -m benchmarks`."""
