"""Expected expansions of AWS::LanguageExtensions templates, made by SAM CLI 1.170's own code in the
mode `sam package` / `sam deploy --language-extensions` uses (process_template_for_sam_cli:
partial resolution, sam's default pseudo parameters), for src/template/language_extensions's tests.

The inputs are the Fn::ForEach templates of aws-sam-cli's compatibility suite
(tests/unit/lib/cfn_language_extensions/compatibility/templates/forEach, Apache-2.0). Run with
sam's interpreter from this directory, the suite unpacked in SUITE:
    SUITE=/path/to/templates /work/tools/sam-venv/bin/python generate.py
"""

import json
import os
from pathlib import Path

from samcli.lib.cfn_language_extensions.sam_integration import process_template_for_sam_cli
from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable

HERE = Path(__file__).parent
SUITE = Path(os.environ["SUITE"])


def main():
    cases = {}
    for path in sorted((SUITE / "forEach").rglob("*.json")):
        if path.stem.endswith(("Expected", "Resolved")):
            continue
        template = json.loads(path.read_text().replace("$RESOURCE_ATTRIBUTE", "DeletionPolicy"))
        name = str(path.relative_to(SUITE / "forEach").with_suffix(""))
        try:
            expanded = process_template_for_sam_cli(template, dict(IntrinsicsSymbolTable.DEFAULT_PSEUDO_PARAM_VALUES))
            cases[name] = {"input": template, "expanded": expanded}
        except Exception as e:  # sam refuses the template: samrs must too
            cases[name] = {"input": template, "error": f"{type(e).__name__}: {e}"}
    (HERE / "foreach-cases.json").write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main()


# --- packaging: the template sam sends to CloudFormation -------------------------------------
# For each template in templates/: sam's expansion, a packaged copy of it (each local artifact
# replaced by a location named after its resource, as Template.export would upload it), and
# what sam's merge_language_extensions_s3_uris + generate_and_apply_artifact_mappings make of it.

import copy

from samcli.lib.cfn_language_extensions.models import PACKAGEABLE_RESOURCE_ARTIFACT_PROPERTIES
from samcli.lib.cfn_language_extensions.sam_integration import expand_language_extensions
from samcli.lib.package.language_extensions_packaging import (
    generate_and_apply_artifact_mappings,
    merge_language_extensions_s3_uris,
)
from samcli.yamlhelper import yaml_parse


def packaged(expanded):
    exported = copy.deepcopy(expanded)
    for logical_id, resource in exported.get("Resources", {}).items():
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        for name in PACKAGEABLE_RESOURCE_ARTIFACT_PROPERTIES.get(kind, []):
            if "." in name or not isinstance(props.get(name), str):
                continue
            if name == "ImageUri":
                props[name] = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{logical_id.lower()}@sha256:{'0' * 64}"
            elif kind == "AWS::Lambda::Function":
                props[name] = {"S3Bucket": "bucket", "S3Key": f"{logical_id}/{name}"}
            else:
                props[name] = f"s3://bucket/{logical_id}/{name}"
    return exported


def packaging_cases():
    cases = {}
    values = dict(IntrinsicsSymbolTable.DEFAULT_PSEUDO_PARAM_VALUES)
    for path in sorted((HERE / "templates").glob("*.yaml")):
        template = yaml_parse(path.read_text())
        result = expand_language_extensions(template, values, enabled=True)
        exported = packaged(result.expanded_template)
        merged = merge_language_extensions_s3_uris(result.original_template, exported, result.dynamic_artifact_properties)
        if result.dynamic_artifact_properties:
            merged = generate_and_apply_artifact_mappings(
                merged, result.dynamic_artifact_properties, exported["Resources"], str(path.parent)
            )
        cases[path.stem] = {
            "input": template,
            "expanded": result.expanded_template,
            "packaged": exported,
            "merged": merged,
        }
    (HERE / "packaging-cases.json").write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    packaging_cases()
