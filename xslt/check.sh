#!/usr/bin/env bash
# check.sh - run xslt/mods2dc.xsl over every MODS record in the sample corpus
# (and the demo fixtures, if present) and validate each oai_dc result against
# the OAI-PMH oai_dc schema. Exits non-zero if any output fails to validate
# or a transformation fails.
#
# Usage: xslt/check.sh [CORPUS_DIR] [OUT_DIR]
#   CORPUS_DIR  defaults to ../shared/corpus (relative to the repository root,
#               i.e. the directory holding xslt/); must contain samples/ and
#               xsd/oai_dc.xsd (which imports simpledc20021212.xsd locally).
#   OUT_DIR     where the extracted MODS and the oai_dc outputs are kept
#               (default: a temporary directory, removed on exit).
# Requires: xsltproc, xmllint (Debian: apt-get install xsltproc libxml2-utils).
#
# What is checked
#   1. samples: for each *.xml under CORPUS_DIR/samples the primary mods:mods
#      is extracted (bare MODS files are used as they are; files holding no
#      MODS are skipped). In METS, the primary record is the dmdSec of the
#      logical div that structLink ties to the root of the physical
#      structMap, else that of the first logical div with a DMDID, else the
#      first mods:mods in the file. OAI-PMH GetRecord wrappers work the same.
#   2. every further mods:mods in those files (child sections, anchors,
#      physical DMD) - extra robustness cover, reported separately.
#   3. demo fixtures: main/fixtures/demo/**/*.xml, when that folder exists.
#   4. synthetic edge cases: empty mods, a modsCollection, markup-like text,
#      deep nesting, a non-MODS root.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
XSL="$HERE/mods2dc.xsl"

CORPUS="${1:-}"
if [ -z "$CORPUS" ]; then
  if [ -d "$ROOT/../shared/corpus" ]; then CORPUS="$ROOT/../shared/corpus"
  else CORPUS="../shared/corpus"; fi
fi
CORPUS="$(cd "$CORPUS" 2>/dev/null && pwd)" || { echo "corpus dir not found: ${1:-../shared/corpus}" >&2; exit 2; }
SCHEMA="$CORPUS/xsd/oai_dc.xsd"
[ -f "$SCHEMA" ] || { echo "schema not found: $SCHEMA" >&2; exit 2; }
for tool in xsltproc xmllint; do
  command -v "$tool" >/dev/null || { echo "$tool not installed" >&2; exit 2; }
done

if [ -n "${2:-}" ]; then
  WORK="$2"; mkdir -p "$WORK"
else
  WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK/mods" "$WORK/dc"

# simpledc20021212.xsd imports http://www.w3.org/2001/03/xml.xsd; map it to
# the local copy (xsd/xml.xsd) so validation runs offline (--nonet).
cat >"$WORK/catalog.xml" <<EOF
<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <system systemId="http://www.w3.org/2001/03/xml.xsd" uri="file://$CORPUS/xsd/xml.xsd"/>
  <uri name="http://www.w3.org/2001/03/xml.xsd" uri="file://$CORPUS/xsd/xml.xsd"/>
</catalog>
EOF
export XML_CATALOG_FILES="$WORK/catalog.xml${XML_CATALOG_FILES:+ $XML_CATALOG_FILES}"

# Extraction stylesheet: param which = 'primary' | N (1-based index
# of a mods:mods in document order). Writes the chosen mods:mods as a
# standalone document (in-scope namespaces are copied with it).
EXTRACT="$WORK/extract-mods.xsl"
cat >"$EXTRACT" <<'EOF'
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:mods="http://www.loc.gov/mods/v3" xmlns:mets="http://www.loc.gov/METS/"
    xmlns:xlink="http://www.w3.org/1999/xlink">
  <xsl:output method="xml" encoding="UTF-8"/>
  <xsl:param name="which" select="'primary'"/>
  <xsl:key name="dmd" match="mets:dmdSec" use="@ID"/>
  <xsl:variable name="all" select="//mods:mods"/>
  <xsl:variable name="physroot" select="//mets:structMap[@TYPE='PHYSICAL']/mets:div/@ID"/>
  <xsl:variable name="linked"
      select="//mets:structMap[@TYPE='LOGICAL']//mets:div[@DMDID]
              [@ID = //mets:structLink/mets:smLink[@xlink:to = $physroot]/@xlink:from][1]"/>
  <xsl:variable name="firstlog" select="(//mets:structMap[@TYPE='LOGICAL']//mets:div[@DMDID])[1]"/>
  <xsl:variable name="div" select="$linked | $firstlog[not($linked)]"/>
  <xsl:variable name="dmdid">
    <xsl:choose>
      <xsl:when test="contains(normalize-space($div/@DMDID), ' ')">
        <xsl:value-of select="substring-before(normalize-space($div/@DMDID), ' ')"/>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="normalize-space($div/@DMDID)"/></xsl:otherwise>
    </xsl:choose>
  </xsl:variable>
  <xsl:variable name="viadmd" select="key('dmd', $dmdid)//mods:mods[1]"/>
  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="$which = 'primary' and $viadmd"><xsl:copy-of select="$viadmd"/></xsl:when>
      <xsl:when test="$which = 'primary'"><xsl:copy-of select="$all[1]"/></xsl:when>
      <xsl:otherwise><xsl:copy-of select="$all[number($which)]"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
EOF

fail=0
declare -A n_ok n_bad

# run_one LABEL GROUP MODSFILE : transform + validate, record result
run_one() {
  local label="$1" group="$2" in="$3"
  local out="$WORK/dc/$label.xml"
  if ! xsltproc --nonet -o "$out" "$XSL" "$in" 2>"$out.err"; then
    echo "FAIL (transform) $label: $(head -c 400 "$out.err")"
    n_bad[$group]=$(( ${n_bad[$group]:-0} + 1 )); fail=1; return
  fi
  if xmllint --noout --nonet --schema "$SCHEMA" "$out" 2>"$out.err"; then
    n_ok[$group]=$(( ${n_ok[$group]:-0} + 1 ))
  else
    echo "FAIL (invalid) $label: $(grep -v 'validates$' "$out.err" | head -c 400)"
    n_bad[$group]=$(( ${n_bad[$group]:-0} + 1 )); fail=1
  fi
  # no empty dc elements, single root, no stray namespace declarations
  if grep -q '<dc:[a-z]*/>\|<dc:[a-z]*></dc:' "$out"; then
    echo "FAIL (empty element) $label"; n_bad[$group]=$(( ${n_bad[$group]:-0} + 1 )); fail=1
  fi
  if grep -o 'xmlns:[a-zA-Z_]*=' "$out" | grep -vq 'xmlns:\(oai_dc\|dc\|xsi\)='; then
    echo "FAIL (namespace leak) $label"; n_bad[$group]=$(( ${n_bad[$group]:-0} + 1 )); fail=1
  fi
}

safe() { printf '%s' "$1" | sed 's#^\./##; s#[/ ]#__#g; s#\.xml$##'; }

# do_tree GROUPPREFIX DIR : primary + additional mods of every xml under DIR
do_tree() {
  local prefix="$1" dir="$2" f rel base cnt i
  while IFS= read -r -d '' f; do
    rel="${f#$dir/}"; base="$prefix-$(safe "$rel")"
    cnt="$(xmllint --nonet --xpath 'count(//*[local-name()="mods" and namespace-uri()="http://www.loc.gov/mods/v3"])' "$f" 2>/dev/null)"
    if [ -z "$cnt" ] || [ "$cnt" = 0 ]; then
      echo "skip (no MODS) $prefix/$rel"; continue
    fi
    xsltproc --nonet --stringparam which primary -o "$WORK/mods/$base.xml" "$EXTRACT" "$f"
    run_one "$base" "$prefix" "$WORK/mods/$base.xml"
    for ((i = 1; i <= cnt; i++)); do
      xsltproc --nonet --stringparam which "$i" -o "$WORK/mods/$base.all$i.xml" "$EXTRACT" "$f"
      run_one "$base.all$i" "$prefix-all-sections" "$WORK/mods/$base.all$i.xml"
    done
  done < <(find "$dir" -type f -name '*.xml' -print0 | sort -z)
}

do_tree samples "$CORPUS/samples"
if [ -d "$ROOT/fixtures/demo" ]; then
  do_tree demo "$ROOT/fixtures/demo"
else
  echo "note: $ROOT/fixtures/demo does not exist (yet); skipped"
fi

# Synthetic edge cases -------------------------------------------------------
E="$WORK/edge"; mkdir -p "$E"
M='xmlns:mods="http://www.loc.gov/mods/v3"'
printf '<mods:mods %s/>' "$M" >"$E/empty.xml"
printf '<mods:modsCollection %s><mods:mods><mods:titleInfo><mods:title>First</mods:title></mods:titleInfo></mods:mods><mods:mods><mods:titleInfo><mods:title>Second</mods:title></mods:titleInfo></mods:mods></mods:modsCollection>' "$M" >"$E/collection.xml"
printf '<foo/>' >"$E/not-mods.xml"
cat >"$E/markup.xml" <<'EOF'
<mods xmlns="http://www.loc.gov/mods/v3" xmlns:xlink="http://www.w3.org/1999/xlink">
  <titleInfo type="alternative"><title>  alt  </title></titleInfo>
  <titleInfo><nonSort>The </nonSort><title>a &lt;b&gt; &amp; c ]]&gt; "q" 'a'</title><subTitle>sub</subTitle><partNumber>1</partNumber><partName>P</partName></titleInfo>
  <titleInfo><title/></titleInfo>
  <name type="personal"><namePart type="family">Doe</namePart><namePart type="given">Jane</namePart><namePart type="date">1900-1980</namePart><role><roleTerm type="code" authority="marcrelator">aut</roleTerm></role></name>
  <name type="corporate"><namePart>Org</namePart><namePart>Dept &amp; Co</namePart></name>
  <name><namePart>   </namePart></name>
  <originInfo eventType="digitization"><publisher>Digi</publisher><dateCaptured keyDate="yes">2020</dateCaptured></originInfo>
  <originInfo><dateIssued point="start">1800</dateIssued><dateIssued point="end">1850</dateIssued><dateCreated/></originInfo>
  <subject><topic>T1</topic><geographic>G</geographic><temporal point="start">1900</temporal><temporal point="end">1910</temporal></subject>
  <subject><name><namePart>X</namePart></name></subject>
  <accessCondition xlink:href="http://rightsstatements.org/vocab/InC/1.0/"/>
  <accessCondition>   </accessCondition>
  <relatedItem type="original"><location><url>http://example.org/orig</url></location></relatedItem>
  <relatedItem type="host"><titleInfo><title>Host</title></titleInfo><part><detail><number>3</number></detail></part></relatedItem>
  <note><![CDATA[<script>&amp;</script>]]></note>
  <extension><deep><deep><deep><deep>x</deep></deep></deep></deep></extension>
  <typeOfResource collection="yes">still image</typeOfResource>
</mods>
EOF
# deep nesting (kept under libxml2's default 256-level parser limit)
{ printf '<mods:mods %s><mods:note>' "$M"
  for i in $(seq 1 240); do printf '<x:e xmlns:x="urn:x">&lt;%d&amp;' "$i"; done
  for i in $(seq 1 240); do printf '</x:e>'; done
  printf '</mods:note><mods:extension>'
  for i in $(seq 1 240); do printf '<y%d>' "$i"; done
  for i in $(seq 240 -1 1); do printf '</y%d>' "$i"; done
  printf '</mods:extension></mods:mods>'; } >"$E/deep.xml"
for f in "$E"/*.xml; do run_one "edge-$(basename "$f" .xml)" edge "$f"; done

# expectations on the edge cases
expect() { # expect FILE GREP-PATTERN [not]
  if [ "${3:-}" = not ]; then
    grep -q -- "$2" "$WORK/dc/$1.xml" && { echo "FAIL (unexpected '$2') $1"; fail=1; }
  else
    grep -q -- "$2" "$WORK/dc/$1.xml" || { echo "FAIL (missing '$2') $1"; fail=1; }
  fi
  return 0
}
expect edge-empty '^<oai_dc:dc [^>]*/>$'
expect edge-collection '<dc:title>First</dc:title>'
expect edge-collection 'Second' not
expect edge-not-mods '^<oai_dc:dc [^>]*/>$'
expect edge-markup '<dc:title>The a &lt;b&gt; &amp; c ]]&gt; "q" '"'"'a'"'"': sub. 1. P</dc:title><dc:title>alt</dc:title>'
expect edge-markup '<dc:creator>Doe, Jane, 1900-1980</dc:creator>'
expect edge-markup '<dc:contributor>Org. Dept &amp; Co</dc:contributor>'
expect edge-markup '<dc:date>1800-1850</dc:date>'
expect edge-markup '2020' not
expect edge-markup '<dc:subject>T1--G--1900-1910</dc:subject>'
expect edge-markup '<dc:coverage>G</dc:coverage><dc:coverage>1900-1910</dc:coverage>'
expect edge-markup '<dc:rights>http://rightsstatements.org/vocab/InC/1.0/</dc:rights>'
expect edge-markup '<dc:source>http://example.org/orig</dc:source>'
expect edge-markup '<dc:relation>Host; 3</dc:relation>'
expect edge-markup '<dc:type>Collection</dc:type><dc:type>StillImage</dc:type>'
expect edge-markup '<dc:description>&lt;script&gt;&amp;amp;&lt;/script&gt;</dc:description>'
expect edge-deep '<dc:description>&lt;1&amp;&lt;2&amp;'

# Summary ----------------------------------------------------------------------
echo
echo "group                          valid  invalid"
for g in samples samples-all-sections demo demo-all-sections edge; do
  if [ -n "${n_ok[$g]:-}${n_bad[$g]:-}" ]; then
    printf '%-30s %5d  %7d\n' "$g" "${n_ok[$g]:-0}" "${n_bad[$g]:-0}"
  fi
done
if [ "$fail" -ne 0 ]; then echo "RESULT: FAILED"; exit 1; fi
echo "RESULT: all outputs valid"
