"""Print what AWS holds for a stack deployed by samrs: the stack and its outputs, what each of its
functions runs, its companion stack, and each managed repository with its images' tags and digests.

boto3 honours AWS_ENDPOINT_URL, so this reads the offline emulator and a real account alike. The
images are read from SAMRS_REGISTRY_ENDPOINT when it is set (the emulator's registry, with the
credentials REGISTRY_USER and REGISTRY_PASSWORD), else from ECR.
Usage: show.py STACK
"""
import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def stack_or_none(cfn, name):
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise


def resources(cfn, name, resource_type):
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=name)
    return [r for page in pages for r in page["StackResourceSummaries"] if r["ResourceType"] == resource_type]


def registry_images(endpoint, repository):
    """(tag, digest) of each image in the repository, from the registry's v2 API."""
    token = base64.b64encode(f"{os.environ['REGISTRY_USER']}:{os.environ['REGISTRY_PASSWORD']}".encode()).decode()

    def get(path, method="GET"):
        request = urllib.request.Request(f"{endpoint}/v2/{repository}/{path}", method=method,
                                         headers={"Authorization": f"Basic {token}", "Accept": MANIFEST_TYPES})
        return urllib.request.urlopen(request, timeout=10)

    try:
        tags = json.load(get("tags/list")).get("tags") or []
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return []
        raise
    return [(tag, get(f"manifests/{tag}", "HEAD").headers["Docker-Content-Digest"]) for tag in sorted(tags)]


def ecr_images(ecr, repository):
    pages = ecr.get_paginator("describe_images").paginate(repositoryName=repository)
    return [(",".join(image.get("imageTags") or ["<untagged>"]), image["imageDigest"])
            for page in pages for image in page["imageDetails"]]


def main(stack_name):
    cfn, ecr, lam = boto3.client("cloudformation"), boto3.client("ecr"), boto3.client("lambda")
    stack = stack_or_none(cfn, stack_name)
    if stack is None:
        print(f"Stack {stack_name}: none")
    else:
        print(f"Stack {stack_name}: {stack['StackStatus']}")
        for output in stack.get("Outputs", []):
            print(f"  output {output['OutputKey']} = {output['OutputValue']}")
        for function in resources(cfn, stack_name, "AWS::Lambda::Function"):
            config = lam.get_function(FunctionName=function["PhysicalResourceId"])
            runs = config["Code"].get("ImageUri") or f"zip, {config['Configuration'].get('Runtime')}"
            print(f"  function {function['LogicalResourceId']} runs {runs}")

    # The SAM CLI's names: the companion stack parent[:104]-md5(parent)[:8]-CompanionStack, and
    # repositories named <parent, lowercase alphanumerics only><md5[:8]>/<function...>.
    digest = hashlib.md5(stack_name.encode()).hexdigest()[:8]
    companion_name = f"{stack_name[:104]}-{digest}-CompanionStack"
    companion = stack_or_none(cfn, companion_name)
    print(f"Companion stack {companion_name}: {companion['StackStatus'] if companion else 'none'}")
    prefix = "".join(c for c in stack_name.lower() if c.isascii() and c.isalnum()) + digest + "/"
    pages = ecr.get_paginator("describe_repositories").paginate()
    repositories = [r for page in pages for r in page["repositories"] if r["repositoryName"].startswith(prefix)]
    if not repositories:
        print(f"Repositories {prefix}*: none")
    registry = os.environ.get("SAMRS_REGISTRY_ENDPOINT")
    for repo in repositories:
        name = repo["repositoryName"]
        print(f"  repository {repo['repositoryUri']}")
        images = registry_images(registry, name) if registry else ecr_images(ecr, name)
        for tag, image_digest in images:
            print(f"    image {tag} {image_digest}")


if __name__ == "__main__":
    main(sys.argv[1])
