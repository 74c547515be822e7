#!/usr/bin/env bash
# Side by side with the SAM CLI (issue 13): runs real-world-style command lines with `sam` and with
# `samrs` against the test emulator, each in a fresh copy of a small app, and compares the exit
# status and what each left in CloudFormation (parameters, tags, capabilities) and samconfig.
# Usage: bash bench/compare-flags.sh MOTO_URL [SAM] [SAMRS]   (the emulator must be running)
set -u
MOTO=${1:?moto url, e.g. http://127.0.0.1:5101}
SAM=${2:-/work/tools/sam-venv/bin/sam}
SAMRS=${3:-$(cd "$(dirname "$0")/.." && pwd)/target/debug/samrs}
PY=$(dirname "$SAM")/python
WORK=$(mktemp -d)
export SAM_CLI_TELEMETRY=0 AWS_ENDPOINT_URL=$MOTO AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true SAM_CLI_POLL_DELAY=0.1 NO_COLOR=1

make_app() {
  mkdir -p "$1/src"
  echo 'def handler(e, c): return 1' > "$1/src/app.py"
  cat > "$1/template.yaml" <<'T'
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: none}
  Name: {Type: String, Default: none}
  Count: {Type: String, Default: none}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, Handler: app.handler, CodeUri: src/}
T
  printf 'Stage: file\nName: from a file\n$include: file://more.toml\n' > "$1/params.yaml"
  printf 'Count = 7\n' > "$1/more.toml"
}

state() { # stack -> one line: status parameters tags capabilities
  "$PY" - "$1" <<'P'
import sys, boto3, json
cfn = boto3.client("cloudformation")
try:
    s = cfn.describe_stacks(StackName=sys.argv[1])["Stacks"][0]
except Exception:
    print("no stack"); sys.exit()
print(json.dumps({"params": {p["ParameterKey"]: p["ParameterValue"] for p in s.get("Parameters", [])},
                  "tags": {t["Key"]: t["Value"] for t in s.get("Tags", [])},
                  "caps": s.get("Capabilities", [])}, sort_keys=True))
P
}

CASES=(
  'deploy --no-confirm-changeset --no-fail-on-empty-changeset --stack-name S --capabilities CAPABILITY_IAM --resolve-s3'
  'deploy --stack-name=S --resolve-s3 --capabilities=CAPABILITY_IAM --parameter-overrides=Stage=dev --no-confirm-changeset --no-fail-on-empty-changeset'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --region us-east-1 --no-fail-on-empty-changeset --parameter-overrides Stage=prod Name="a b"'
  "deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --parameter-overrides ParameterKey=Stage,ParameterValue=qa ParameterKey=Count,ParameterValue=2 --tags project=x env=qa --no-fail-on-empty-changeset"
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --parameter-overrides file://params.yaml --no-fail-on-empty-changeset --no-progressbar'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --parameter-overrides file://params.yaml Stage=inline --no-fail-on-empty-changeset'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --use-json --metadata team=core,owner=ops --no-fail-on-empty-changeset'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --debug --no-fail-on-empty-changeset'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --beta-features --no-fail-on-empty-changeset --output json'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --output JSON --no-fail-on-empty-changeset'
  'deploy --template-file template.yaml --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --no-execute-changeset'
  'deploy -t template.yaml --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --no-language-extensions --no-fail-on-empty-changeset'
  'deploy stray --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --disable-rollback --force-upload --no-fail-on-empty-changeset --tags "Owner=Data Team"'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset --save-params --parameter-overrides Stage=saved'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --confirm-changeset --output json'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --parameter-overrides file://missing.yaml'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --no-such-flag'
  'deploy --stack-name S --resolve-s3 --s3-bucket b --capabilities CAPABILITY_IAM'
  'deploy --resolve-s3 --capabilities CAPABILITY_IAM'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --confirm-changeset'
  'deploy --guided'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --config-file missing.toml'
  'deploy --stack-name S --resolve-s3 --capabilities CAPABILITY_IAM --config-env nope --no-fail-on-empty-changeset'
  'deploy --stack-name S_1 --resolve-s3 --capabilities CAPABILITY_IAM'
  'delete --stack-name S'
  'delete --stack-name S --no-prompts'
  ''
)

printf '| # | command line | sam exit | samrs exit | same stack state | same samconfig |\n| --- | --- | --- | --- | --- | --- |\n'
n=0; same_all=0
for line in "${CASES[@]}"; do
  n=$((n + 1))
  for tool in sam samrs; do
    dir="$WORK/$n-$tool"; make_app "$dir"
    stack="cmp$n-$tool"
    args=${line//S /$stack }
    bin=$SAM; [ "$tool" = samrs ] && bin=$SAMRS
    (cd "$dir" && eval "HOME=$dir \"$bin\" $args" > "$dir.out" 2>&1 < /dev/null); echo $? > "$dir.rc"
    state "$stack" > "$dir.state"
    [ -f "$dir/samconfig.toml" ] && sed "s/$stack/STACK/g" "$dir/samconfig.toml" > "$dir.cfg" || : > "$dir.cfg"
  done
  a="$WORK/$n-sam"; b="$WORK/$n-samrs"
  s1=$(cat "$a.rc"); s2=$(cat "$b.rc")
  st=no; cmp -s "$a.state" "$b.state" && st=yes
  cf=no; cmp -s "$a.cfg" "$b.cfg" && cf=yes
  printf '| %d | `%s` | %s | %s | %s | %s |\n' "$n" "$line" "$s1" "$s2" "$st" "$cf"
done
echo
echo "outputs kept in $WORK"
