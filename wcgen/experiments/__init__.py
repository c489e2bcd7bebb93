"""The paper's tables as grids of runs, and the writer of their results."""
