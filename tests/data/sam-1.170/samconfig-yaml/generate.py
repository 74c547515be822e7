"""Writes the expected bytes of YAML samconfig saves, made by SAM CLI 1.170's own code
(samcli.lib.config.samconfig.SamConfig over ruamel.yaml), for src/config/edit/yaml.rs's tests.

Run with sam's interpreter from this directory:
    /work/tools/sam-venv/bin/python generate.py
"""

import json
import os
import tempfile
from pathlib import Path

import click

from samcli.commands.deploy.guided_config import GuidedConfig
from samcli.lib.config.samconfig import SamConfig

HERE = Path(__file__).parent

# Strings that take every path of ruamel's scalar writer: plain, single and double quoted,
# folded at 80 columns, values that would read back as another type, indicators.
SCALARS = [
    "app", "", " lead", "trail ", "two  spaces", "true", "True", "yes", "no", "null", "~", "1", "-1",
    "0.1", "1e3", ".5", ".inf", "0x1F", "0o17", "2024-01-31", "<<", "=", "key: value", "a #b",
    "a#b", "#x", "@x", "`x", "%x", "!x", "&x", "*x", "|x", ">x", "? x", "?x", ": x", ":x", "- x",
    "-x", "[x]", "x,y", "{x}", "it's", "'quoted'", '"dq"', "a\nb", "tab\there", "caf\u00e9",
    "snow\u2603man", "emoji\U0001F600", "bell\x07", "back\\slash", "---", "...", "a: ",
    'Stage="dev" Q="a \\"b\\" c"',
    'BucketNames="get-child-care-illinois-production" VpcId="vpc-034f6f582cb62535f" '
    'VpcCIDR="10.0.24.0/22" Subnets="subnet-01ea7634ed726dfc3,subnet-03591e096e32ebd2f"',
    "x" * 95,
    "word " * 30,
    "key: " + "long value " * 12,
    "it's " * 25,
    "first line\nsecond line " + "pad " * 25,
    "CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND CAPABILITY_RESOURCE_POLICY",
    "HelloFunction=123456789012.dkr.ecr.us-east-1.amazonaws.com/helloworldstack925976eb/"
    "hellofunction19d43fc4repo",
]


def save(path: Path, env: str, puts):
    config = SamConfig(str(path.parent), path.name)
    for cmd, key, value in puts:
        config.put([cmd], "parameters", key, value, env=env)
    config.flush()


def guided(path: Path, env: str, **answers):
    """sam's own GuidedConfig.save_config, under a click context named `deploy`."""
    with click.Context(click.Command("deploy"), info_name="deploy") as ctx:
        ctx.samconfig_dir = str(path.parent)
        GuidedConfig(str(path.parent / "template.yaml"), "parameters").save_config(
            config_env=env, config_file=path.name, **answers
        )


def run(before, action):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "samconfig.yaml")
        if before is not None:
            path.write_text(before)
        action(path)
        return path.read_text()


GUIDED_FIRST = dict(
    stack_name="Hello-World-Stack", s3_bucket=None, s3_prefix="Hello-World-Stack", resolve_s3=True,
    resolve_image_repos=False, region="us-west-2", profile=None, confirm_changeset=True,
    capabilities=["CAPABILITY_IAM"], disable_rollback=False,
    parameter_overrides={"Stage": "dev", "Motto": 'say "hi"', "Secret": {"Value": "x", "Hidden": True}},
    image_repositories={"TestFunction01": "123456789012.dkr.ecr.us-west-2.amazonaws.com/repo1"},
)


def main():
    cases = {}
    for i, s in enumerate(SCALARS):
        cases[f"scalar-{i}"] = {
            "value": s,
            "before": None,
            "expected": run(None, lambda p: save(p, "default", [
                ("deploy", "parameter_overrides", s),
                ("deploy", "image_repositories", [s, "b"]),
                ("deploy", "tags", {"K": s}),
                ("deploy", "a_much_longer_key_name_to_move_the_column_right", s),
            ])),
        }
    first = run(None, lambda p: guided(p, "default", **GUIDED_FIRST))
    second = run(first, lambda p: guided(p, "default", **GUIDED_FIRST))
    cases["guided-first"] = {"before": None, "expected": first}
    cases["guided-second"] = {"before": first, "expected": second}
    staging = dict(GUIDED_FIRST, stack_name="stg", region="eu-west-1", image_repositories={})
    cases["guided-other-env"] = {"before": second, "expected": run(second, lambda p: guided(p, "staging", **staging))}
    save_params = [
        ("deploy", "stack_name", "app"), ("deploy", "capabilities", ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")),
        ("deploy", "parameter_overrides", {"Stage": "dev", "Port": "5432"}), ("deploy", "confirm_changeset", False),
        ("deploy", "tags", {}), ("deploy", "notification_arns", ()), ("global", "region", "us-east-1"),
    ]
    params_first = run(None, lambda p: save(p, "default", save_params))
    cases["save-params-first"] = {"before": None, "expected": params_first}
    cases["save-params-second"] = {"before": params_first, "expected": run(params_first, lambda p: save(p, "default", save_params))}
    real = Path("/work/shared/real-world/samconfig")
    for f in sorted(real.glob("*.y*ml")):
        text = f.read_text()
        cases[f"real-guided-{f.name}"] = {"before": text, "expected": run(text, lambda p: guided(p, "default", **GUIDED_FIRST))}
    (HERE / "cases.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
