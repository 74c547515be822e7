#!/usr/bin/env python3
"""Checks, after each benchmark command, that the emulator holds what the command should have
left, so a broken run is never timed as a fast one. Talks to the emulator directly (not through
the counting proxy) with the boto3 of the SAM CLI venv.

Usage: check_state.py ENDPOINT STACK deployed FN1,FN2,...   (stack complete with exactly these
                                                              functions; the companion stack, once
                                                              a clean-up left running ended, holds
                                                              one repository per image function)
       check_state.py ENDPOINT STACK gone                    (stack, companion stack and managed
                                                              repositories all deleted)
Exits 1 with one line naming the difference."""
import hashlib
import re
import sys
import time

import boto3
from botocore.exceptions import ClientError

LIVE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}


def companion_name(stack):
    return f"{stack[:104]}-{hashlib.md5(stack.encode()).hexdigest()[:8]}-CompanionStack"


def status(cfn, stack):
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    live = [s["StackStatus"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


def resources(cfn, stack, resource_type):
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for page in pages
            for r in page["StackResourceSummaries"] if r["ResourceType"] == resource_type}


def managed_repos(ecr, stack):
    prefix = re.sub(r"[^a-z0-9]", "", stack.lower()) + hashlib.md5(stack.encode()).hexdigest()[:8]
    pages = ecr.get_paginator("describe_repositories").paginate()
    return sorted(r["repositoryName"] for page in pages for r in page["repositories"]
                  if r["repositoryName"].startswith(prefix + "/"))


def check_deployed(cfn, ecr, stack, functions):
    main = status(cfn, stack)
    if main not in LIVE:
        return f"stack {stack} is {main}, expected CREATE_COMPLETE or UPDATE_COMPLETE"
    deployed = sorted(resources(cfn, stack, "AWS::Lambda::Function"))
    if deployed != sorted(functions):
        return f"stack {stack} has functions {deployed}, expected {sorted(functions)}"
    companion = companion_name(stack)
    # samrs leaves its clean-up (retired repositories removed) running in CloudFormation: wait
    # for it here, outside the timed command, then check what it left.
    for _ in range(1200):
        if not (status(cfn, companion) or "").endswith("_IN_PROGRESS"):
            break
        time.sleep(0.1)
    if status(cfn, companion) not in LIVE:
        return f"companion stack {companion} is {status(cfn, companion)}"
    images = [f for f in functions if f.startswith("Image")]
    repos = resources(cfn, companion, "AWS::ECR::Repository")
    if len(repos) != len(images):
        return f"companion stack {companion} has {len(repos)} repositories, expected {len(images)}"
    existing = managed_repos(ecr, stack)
    if sorted(repos.values()) != existing:
        return f"ECR holds {existing}, the companion stack {sorted(repos.values())}"
    return None


def check_gone(cfn, ecr, stack):
    for name in (stack, companion_name(stack)):
        left = status(cfn, name)
        if left is not None:
            return f"stack {name} is still {left}"
    repos = managed_repos(ecr, stack)
    return f"managed repositories left: {repos}" if repos else None


def main():
    endpoint, stack, expect = sys.argv[1:4]
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="testing",
                                    aws_secret_access_key="testing")
    cfn = session.client("cloudformation", endpoint_url=endpoint)
    ecr = session.client("ecr", endpoint_url=endpoint)
    if expect == "deployed":
        problem = check_deployed(cfn, ecr, stack, sys.argv[4].split(","))
    else:
        problem = check_gone(cfn, ecr, stack)
    if problem:
        print(f"state check failed: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
