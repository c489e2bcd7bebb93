"""The bottom layer: what every other part of wcgen may import.

Players' state and optimiser wrappers (`state`), files written so that a
kill never leaves half of one and the workdir lock (`files`), checkpoints
(`checkpointing`) and picture grids (`image_grid`). Nothing here imports
another part of wcgen except `wcgen.errors`; tests/test_layers_import.py
checks the whole layer order (docs/API.md, "Layout").
"""
