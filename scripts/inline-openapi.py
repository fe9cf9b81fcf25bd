#!/usr/bin/env python3
"""inline-openapi: template.yaml with api/openapi.yaml inlined, as JSON on stdout.

cfn-lint cannot follow the Fn::Transform AWS::Include that makes api/openapi.yaml the API's
DefinitionBody, so nothing would check the document's intrinsic functions (Fn::Sub of the
functions' aliases, Ref AllowedOrigins) against the template. This writes the template with
the include replaced by the document itself, for scripts/lint-template.sh to lint:

    .tools/venv/bin/python scripts/inline-openapi.py template.yaml > inlined.json
    .tools/venv/bin/python scripts/inline-openapi.py --env prod --parameters-out p.json template.yaml

With --env it also applies the SAM transform (samtranslator, SAM CLI's own) with that samconfig.toml
environment's parameter_overrides, as CloudFormation would: the document's references to what SAM generates
(${ReadFunctionAliaslive}) exist only then, so only then can cfn-lint check them. CodeUri "."
(a local build directory) is given a stand-in S3 URI, which is what `sam package` does.

It runs with the Python of .tools/venv, whose cfn-lint reads the short-form tags (!Ref,
!Sub, ...) into their long forms. It fails if the template has no such include.
"""
import json
import os
import sys

import yaml
from cfnlint.decode import decode


def translate(template, parameters):
    """Returns template after the SAM transform with the given parameter values."""
    from samtranslator.translator.transform import transform

    class ManagedPolicies:
        # The AWS managed policies SAM may attach, by name; the ARN is all the output needs.
        def load(self):
            return {}

        def get(self, name):
            return "arn:aws:iam::aws:policy/" + name

    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and props.get("CodeUri") == ".":
            props["CodeUri"] = "s3://inline-openapi/code.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(template, parameters, ManagedPolicies())


def samconfig_parameters(samconfig, env):
    """The parameter_overrides of samconfig.toml's [env.deploy.parameters], as a dict."""
    import shlex
    import tomllib

    with open(samconfig, "rb") as f:
        config = tomllib.load(f)
    overrides = config[env]["deploy"]["parameters"].get("parameter_overrides", "")
    if isinstance(overrides, list):
        overrides = " ".join(overrides)
    return dict(item.partition("=")[::2] for item in shlex.split(overrides))


def parameter_file(template, parameters):
    """cfn-lint's parameter file: CommaDelimitedList values as lists, as CloudFormation has them."""
    declared = template.get("Parameters", {})
    out = []
    for key, value in parameters.items():
        kind = declared.get(key, {}).get("Type", "String")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            value = [v.strip() for v in value.split(",")]
        out.append({"ParameterKey": key, "ParameterValue": value})
    return out


def main(argv):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template")
    parser.add_argument("--env", help="translate with this samconfig.toml environment's parameter_overrides")
    parser.add_argument("--samconfig", default="samconfig.toml")
    parser.add_argument("--parameters-out", help="also write those parameters as a cfn-lint parameter file here")
    args = parser.parse_args(argv[1:])
    path = args.template
    template, matches = decode(path)
    if matches:
        sys.exit("inline-openapi: %s: %s" % (path, "; ".join(str(m) for m in matches)))
    inlined = 0
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties") or {}
        for key in ("DefinitionBody", "Body"):
            body = props.get(key)
            if not isinstance(body, dict) or "Fn::Transform" not in body:
                continue
            transform = body["Fn::Transform"]
            if transform.get("Name") != "AWS::Include":
                continue
            location = transform["Parameters"]["Location"]
            document = os.path.join(os.path.dirname(os.path.abspath(path)), location)
            with open(document, encoding="utf-8") as f:
                props[key] = yaml.safe_load(f)
            inlined += 1
    if inlined == 0:
        sys.exit("inline-openapi: %s includes no document with AWS::Include" % path)
    if args.env:
        parameters = samconfig_parameters(args.samconfig, args.env)
        if args.parameters_out:
            with open(args.parameters_out, "w", encoding="utf-8") as f:
                json.dump(parameter_file(template, parameters), f, indent=1)
        template = translate(template, parameters)
    json.dump(template, sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv)
