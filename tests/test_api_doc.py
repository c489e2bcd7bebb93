"""The example in docs/API.md runs as written (no copy that can drift)."""

import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_api_example_runs(capsys):
  with open(os.path.join(REPO, "docs", "API.md")) as f:
    blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
  assert len(blocks) == 1
  exec(compile(blocks[0], "docs/API.md", "exec"), {"__name__": "api_doc"})  # pylint: disable=exec-used
  printed = capsys.readouterr().out.splitlines()
  assert [line.split()[0] for line in printed] == ["0", "1", "2"]
  assert "w_distance" in printed[-1] and "c_loss" in printed[-1]
