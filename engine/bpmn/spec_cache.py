"""The serialized specs of deployed versions (流程定义缓存): written once per version, restored once per
process."""
from __future__ import annotations

import json

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.core.models import ProcessVersion

SPEC_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def dump_spec(spec: BpmnProcessSpec, subprocess_specs: dict) -> str:
    return json.dumps(
        {
            "serializer_version": VERSION,
            "spec": SPEC_SERIALIZER.to_dict(spec),
            "subprocess_specs": {k: SPEC_SERIALIZER.to_dict(v) for k, v in subprocess_specs.items()},
        }
    )


class SpecCache:
    """(process, bundle hash) → (spec, subprocess_specs), restored once per process."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[BpmnProcessSpec, dict]] = {}

    def cached(self, process_key: str, bundle_sha256: str) -> tuple[BpmnProcessSpec, dict] | None:
        """The spec of a version already restored (None: not yet)."""
        return self._cache.get((process_key, bundle_sha256))

    def get(self, version: ProcessVersion) -> tuple[BpmnProcessSpec, dict]:
        key = (version.process_key, version.bundle_sha256)
        if key not in self._cache:
            d = json.loads(version.spec_json)
            self._cache[key] = (
                SPEC_SERIALIZER.from_dict(d["spec"]),
                {k: SPEC_SERIALIZER.from_dict(v) for k, v in d["subprocess_specs"].items()},
            )
        return self._cache[key]


SPECS = SpecCache()
