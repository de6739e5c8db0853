#!/usr/bin/env bash
# S3A for the interop suite's Spark: hadoop-aws of the Hadoop version a PySpark ships, with the
# AWS SDK bundle (and the other runtime jars) that hadoop-aws release declares in its POM, from
# Maven Central into Maven's local repository (~/.m2/repository, or $MAVEN_REPO): outside the
# clone, because the SDK bundles weigh 270-620 MB and every later clone and CI run on this
# machine reuses them. Each jar is checked against Central's SHA-1 before it is kept.
# Idempotent: a jar already there is not downloaded again.
#
#   fetch-hadoop-aws.sh 3.4.2     prints the jars as a comma-separated list (for spark.jars)
set -euo pipefail
HADOOP="${1:?usage: fetch-hadoop-aws.sh <hadoop version, e.g. 3.4.2>}"
REPO="${MAVEN_REPO:-$HOME/.m2/repository}"
CENTRAL="${MAVEN_CENTRAL:-https://repo1.maven.org/maven2}"

# group:artifact:version, per Hadoop release (versions from hadoop-project's POM of that release).
case "$HADOOP" in
  3.3.4) ARTIFACTS=(org.apache.hadoop:hadoop-aws:3.3.4 com.amazonaws:aws-java-sdk-bundle:1.12.262 org.wildfly.openssl:wildfly-openssl:1.0.7.Final) ;;
  3.4.1) ARTIFACTS=(org.apache.hadoop:hadoop-aws:3.4.1 software.amazon.awssdk:bundle:2.24.6 org.wildfly.openssl:wildfly-openssl:1.1.3.Final) ;;
  3.4.2) ARTIFACTS=(org.apache.hadoop:hadoop-aws:3.4.2 software.amazon.awssdk:bundle:2.29.52 software.amazon.s3.analyticsaccelerator:analyticsaccelerator-s3:1.2.1 org.wildfly.openssl:wildfly-openssl:2.1.4.Final) ;;
  *) echo "fetch-hadoop-aws.sh: no artifact list for Hadoop $HADOOP; add its hadoop-aws dependencies here" >&2; exit 1 ;;
esac

jars=()
for gav in "${ARTIFACTS[@]}"; do
  IFS=: read -r group artifact version <<<"$gav"
  rel="${group//.//}/$artifact/$version/$artifact-$version.jar"
  dest="$REPO/$rel"
  if [[ ! -s "$dest" ]]; then
    echo "fetching $gav into $REPO" >&2
    mkdir -p "$(dirname "$dest")"
    tmp="$dest.part.$$"
    trap 'rm -f "$tmp"' EXIT
    curl -fsSL --retry 3 -o "$tmp" "$CENTRAL/$rel"
    want="$(curl -fsSL --retry 3 "$CENTRAL/$rel.sha1" | cut -c1-40)"
    got="$(sha1sum "$tmp" | cut -c1-40)"
    if [[ "$want" != "$got" ]]; then
      echo "fetch-hadoop-aws.sh: SHA-1 of $rel is $got, Maven Central says $want" >&2
      exit 1
    fi
    mv "$tmp" "$dest"
    trap - EXIT
  fi
  jars+=("$dest")
done
(IFS=,; echo "${jars[*]}")
