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
