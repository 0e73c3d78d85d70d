"""Inspect side of the Airlock engine benchmark (see README.md).

The same task as ``task.yaml``: every sample of a JSONL dataset goes through a
single ``generate()`` call and is scored with ``exact()`` against its target.

    inspect eval benchmarks/engine/inspect_task.py -T dataset=out/pong-2000.jsonl ...

``dataset`` is resolved relative to this file's directory unless absolute.
"""

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import exact
from inspect_ai.solver import generate

HERE = Path(__file__).resolve().parent


@task
def pong(dataset: str = "out/pong-2000.jsonl") -> Task:
    path = Path(dataset)
    if not path.is_absolute():
        path = HERE / path
    return Task(
        name="pong",
        # Lines are {"id", "input", "target"}: Inspect's default field names.
        dataset=json_dataset(str(path)),
        solver=[generate()],
        scorer=exact(),
        config=GenerateConfig(max_tokens=8),
    )
