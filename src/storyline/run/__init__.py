"""Run: the pipeline that wires the stages, and the processes that share its work."""
