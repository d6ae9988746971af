#!/usr/bin/env python3
"""Generate synthetic METS/MODS records for vitrine's benchmarks and harvester tests.

The records are Goobi/Kitodo-style METS exports with embedded MODS, built from the demo
collection in ``fixtures/demo/main/``: every monograph (and, with ``--multivolume``, every
anchor and volume) there serves as a template.  For each record the generator keeps the
template's shape -- its metadata sections, logical structure, file groups, rights and links
-- and varies what differs between real records:

* title, sub-title, persons, place, publisher and year of publication (German, Latin or
  French wording, following the template's language and digital collection);
* identifiers: ``recordIdentifier`` = ``<prefix>_<number padded to 7 digits>``, URN, PURL,
  VD17/VD18 number (by year), shelf mark, OPAC and viewer links;
* the number of pages: each page adds a physical div, one file per file group and its
  structLink entries.  The page count is chosen so that the file size lands on a target
  drawn uniformly between ``--min-kb`` and ``--max-kb``.  The template's logical divs
  (chapters, plates, ...) are stretched over the new page sequence.

Some demo files carry a typical workflow defect (a language given as text, a date without
keyDate, pages without ORDER, a Goobi structure type, ...).  Records built from them keep the
defect, so a ZVDD validator has something to flag and repair; ``--defects`` sets the share of
such records (default 0.1, 0 for a clean set).

With ``--multivolume K`` every K-th record number starts a group of four files: an anchor
(multi-volume work or periodical) followed by three volumes whose ``mets:mptr`` and
``mods:relatedItem[@type='host']`` point at it.  ``--count`` is always the number of files.
Anchors have no pages, so like real anchor files they stay small (about 7 KB) whatever the
size range.

Output goes to ``OUT/00000/``, ``OUT/00001/``, ... (1,000 files per folder), each file named
``<localid>.xml``.  The output is deterministic for a given ``--seed`` (and independent of
``--jobs``).  Only the Python 3 standard library is used.

Example::

    python3 bench/generate.py --count 100000 --out /tmp/synth --seed 7 --multivolume 50
"""

import argparse
import os
import random
import re
import sys
import time
import xml.etree.ElementTree as ET

METS = "http://www.loc.gov/METS/"
MODS = "http://www.loc.gov/mods/v3"
XLINK = "http://www.w3.org/1999/xlink"
DV = "http://dfg-viewer.de/"
NS = {"mets": METS, "mods": MODS, "xlink": XLINK, "dv": DV}
for _p, _u in (("mets", METS), ("mods", MODS), ("xlink", XLINK), ("dv", DV),
               ("xsi", "http://www.w3.org/2001/XMLSchema-instance")):
    ET.register_namespace(_p, _u)
HREF = "{%s}href" % XLINK
DIV = "{%s}div" % METS
FILES_PER_FOLDER = 1000
DEFAULT_TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "demo", "main")

# Logical structure types of the DFG-Viewer structure data set (to tell defective templates).
DFG_TYPES = set("""annotation address article atlas binding bookplate chapter contained_work contents corrigenda
cover cover_back cover_front day dedication document endsheet entry epilogue file fragment folder ground_plan
illustration image imprint index initial_decoration issue judgement letter manuscript map month monograph
multivolume_work musical_notation newspaper note official_notification periodical poster preface privileges
provenance report scheme section seal stamp study subinventory table text title_page verse volume year""".split())

# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------
GIVEN = ["Johann", "Christian", "Gottfried", "Friedrich", "Carl", "Georg", "Heinrich", "Andreas", "Michael",
         "Samuel", "Johann Christoph", "Johann Georg", "Gottlieb", "Ernst", "August", "Daniel", "Tobias",
         "Martin", "Philipp", "Wilhelm", "Johann Friedrich", "Christoph Heinrich", "Gottlob", "Caspar",
         "Johann Jacob", "Ernst Ludwig", "Valentin", "Adam", "Johann Gottfried", "Zacharias"]
FAMILY = ["Becker", "Böhme", "Engelhardt", "Fiedler", "Frölich", "Gebhardt", "Hartmann", "Kießling", "Körner",
          "Lindner", "Löscher", "Möller", "Neumann", "Pfeiffer", "Reinhardt", "Rößler", "Schubart", "Seyfert",
          "Starck", "Thiele", "Ulrich", "Vogel", "Weise", "Winckler", "Ziegler", "Amthor", "Baumgarten",
          "Crell", "Döring", "Eckold", "Fleischer", "Gräfe", "Hennig", "Jähnichen", "Kettner", "Lorentz",
          "Meißner", "Naumann", "Opitz", "Quandt", "Rabener", "Schröter", "Trautmann", "Wendt", "Zschau"]
PLACES = ["Leipzig", "Halle", "Jena", "Wittenberg", "Erfurt", "Nürnberg", "Augsburg", "Frankfurt am Main",
          "Dresden", "Berlin", "Göttingen", "Magdeburg", "Gotha", "Weimar", "Helmstedt", "Altdorf", "Tübingen",
          "Breslau", "Königsberg", "Hamburg", "Braunschweig", "Quedlinburg", "Zerbst", "Naumburg", "Merseburg",
          "Zeitz", "Coburg", "Rudolstadt", "Arnstadt", "Eisleben"]
ADJ = ["Kurtz", "Gründlich", "Ausführlich", "Neu", "Vollständig", "Zuverlässig", "Historisch", "Umständlich",
       "Wahrhaftig", "Deutlich", "Kurzgefaßt", "Aufrichtig"]
NOUNS = [("Beschreibung", "e"), ("Nachricht", "e"), ("Abhandlung", "e"), ("Erzehlung", "e"),
         ("Anleitung", "e"), ("Bericht", "er"), ("Unterricht", "er"), ("Verzeichniß", "es"),
         ("Bedencken", "es"), ("Gespräch", "es")]
TOPICS = {
    "Geschichte": ["der Belagerung der Stadt {P}", "dem Ursprung und Aufnehmen der Stadt {P}",
                   "dem großen Brande zu {P} im Jahr {Y}", "den Alterthümern der Gegend um {P}",
                   "der Huldigung zu {P}", "dem Landtage zu {P}", "den Schicksalen der Stadt {P} im Kriege",
                   "der Einweihung der neuen Brücke zu {P}", "den Münzen und Siegeln der Stadt {P}",
                   "dem Hochwasser des Jahres {Y}", "den Herren von {F} und ihren Gütern"],
    "Theologie": ["der Kirchen-Visitation zu {P}", "dem rechten Gebrauch des heiligen Abendmahls",
                  "der wahren Buße und Bekehrung", "dem Gebet und öffentlichen Gottesdienst",
                  "der Auferstehung der Todten", "der christlichen Kinderzucht",
                  "dem Jubelfeste der Reformation zu {P}", "der Einweihung der Kirche zu {P}",
                  "der Pest und ihrer Abwendung durch Gebet", "den Pflichten eines Predigers"],
    "Naturwissenschaften": ["dem Bergbau bey {P}", "den Salzquellen zu {P}", "dem Cometen des Jahres {Y}",
                            "den Kräften der Electricität", "der Bienenzucht", "dem Weinbau an der Saale",
                            "den Mineralwassern zu {P}", "der Witterung des Jahres {Y}", "den Insecten um {P}",
                            "dem Nordlichte vom Jahr {Y}", "den Kräutern des Harzes", "dem Erdbeben des Jahres {Y}",
                            "den Eigenschaften der Luft"],
}
SUBTITLES = ["Nebst einigen Anmerkungen", "Aus glaubwürdigen Urkunden zusammengetragen", "Mit Kupfern",
             "Zum Nutzen der Jugend entworfen", "Auf Begehren dem Druck übergeben",
             "Zweyte, verbesserte Auflage", "Mit einer Vorrede", "In Briefen an einen Freund",
             "Nebst einem vollständigen Register", "Aus dem Lateinischen übersetzt"]
LAT_KIND = ["Disputatio", "Dissertatio", "Exercitatio", "Oratio"]
LAT_ADJ = ["physica", "theologica", "medica", "iuridica", "philosophica", "historica"]
LAT_TOPIC = ["aere", "magnete", "cometis", "gratia Dei", "iure naturae", "fide salvifica", "peste",
             "terrae motu", "sacramentis", "anima rationali", "lumine", "motu planetarum", "iustitia",
             "libertate arbitrii", "fontibus salsis", "electricitate"]
LAT_SUB = ["Quam praeside ... publice defendet", "Pro gradu doctoris", "Publicae disquisitioni subiicit",
           "In auditorio maiori habita"]
FRE_KIND = ["Relation", "Description", "Mémoire", "Lettre", "Essai"]
FRE_TOPIC = ["le siège de {P}", "l'origine de la ville de {P}", "les eaux minérales de {P}",
             "la culture des abeilles", "l'électricité", "le commerce de la Saxe", "les antiquités de {P}"]
FRE_SUB = ["Avec des remarques", "Nouvelle édition", "Traduit de l'allemand", "Par un officier"]
THEILE = ["Erster Theil", "Zweyter Theil", "Dritter Theil"]
SHELF = {"Geschichte": "Gesch.", "Theologie": "Theol.", "Naturwissenschaften": "Nat."}

_URN = dict(zip("0123456789", "1 2 3 4 5 6 7 8 9 41".split()))
_URN.update(dict(zip("abcdefghijklmnopqrstuvwxyz+:-/_.",
                     "18 14 19 15 16 21 22 23 24 25 42 26 27 13 28 29 31 12 32 33 11 34 35 36 37 38 "
                     "49 17 39 45 43 47".split())))


def urn_for(local_id):
    """URN:NBN for a local id, with the DNB check digit."""
    base = "urn:nbn:de:demo:3-" + local_id.replace("_", "-")
    digits = "".join(_URN[c] for c in base.lower())
    total = sum(int(d) * (i + 1) for i, d in enumerate(digits))
    return base + str((total // int(digits[-1])) % 10)


def esc(text):
    """Escape text for use in XML content or a double-quoted attribute."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# --------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------
TOKEN = re.compile(r"@@(\w+)@@")


class Template:
    """One demo file turned into a token skeleton plus what is needed to render pages."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-4]
        root = ET.parse(path).getroot()
        logical = root.find("mets:structMap[@TYPE='LOGICAL']", NS)
        tops = [d for d in logical.iter(DIV) if d.get("ADMID")]
        if len(tops) != 1:
            raise ValueError("%s: expected one logical div with ADMID" % path)
        top = tops[0]
        self.top_type = top.get("TYPE")
        outer = logical.find("mets:div", NS)
        self.kind = "volume" if outer is not top else (
            "anchor" if top.find(".//mets:mptr", NS) is not None else "monograph")
        self.anchor_type = outer.get("TYPE") if self.kind == "volume" else top.get("TYPE")
        mods = root.find("mets:dmdSec[@ID='%s']//mods:mods" % top.get("DMDID"), NS)
        rid = mods.find("mods:recordInfo/mods:recordIdentifier", NS)
        self.local_id = rid.text
        self.defects = self._defects(root, mods, rid)
        self.lang = (mods.findtext("mods:language/mods:languageTerm", "ger", NS) or "ger")
        self.collection = mods.findtext("mods:classification[@authority='ZVDD']", "Geschichte", NS)
        if self.collection not in TOPICS:
            self.collection = "Geschichte"
        dates = mods.findall("mods:originInfo[@eventType='publication']/mods:dateIssued", NS)
        years = [int(y) for d in dates for y in re.findall(r"\d{4}", d.text or "")]
        self.year = years[0] if years else 1750
        host = mods.find("mods:relatedItem[@type='host']/mods:recordInfo/mods:recordIdentifier", NS)
        self.parent_id = host.text if host is not None else None
        urn = mods.findtext("mods:identifier[@type='urn']", None, NS)

        self._tokenise_mods(mods, top, outer)
        hdr = root.find("mets:metsHdr", NS)
        hdr.set("CREATEDATE", "@@CREATED@@")
        if hdr.get("LASTMODDATE"):
            hdr.set("LASTMODDATE", "@@CREATED@@")

        # pages: file groups, ORDER, and the page ranges of the logical divs
        self.groups = []
        self.has_order = True
        self.ranges = []
        phys = root.find("mets:structMap[@TYPE='PHYSICAL']", NS)
        if phys is not None:
            pages = phys.findall("mets:div/mets:div", NS)
            index = {p.get("ID"): i for i, p in enumerate(pages)}
            self.has_order = all(p.get("ORDER") for p in pages)
            n = len(pages)
            fsec = root.find("mets:fileSec", NS)
            page_files = {f.get("FILEID") for p in pages for f in p.findall("mets:fptr", NS)}
            for grp in fsec.findall("mets:fileGrp", NS):
                files = grp.findall("mets:file", NS)
                if not files or files[0].get("ID") not in page_files:
                    continue  # e.g. a PDF download: not per page, dropped
                href = files[0].find("mets:FLocat", NS).get(HREF)
                m = re.search(r"0*1(?=\.\w+$)", href) or re.search(r"0*1(?!.*\d)", href)
                head, tail = href[:m.start()], href[m.end():]
                width = m.end() - m.start()
                head = head.replace(self.local_id, "%(id)s")
                self.groups.append((grp.get("USE"), files[0].get("MIMETYPE"), head, tail, width))
            for child in list(fsec):
                fsec.remove(child)
            fsec.text = "@@FILES@@"
            seq = phys.find("mets:div", NS)
            for child in list(seq):
                seq.remove(child)
            seq.text = "@@PAGES@@"
            links = {}
            slink = root.find("mets:structLink", NS)
            for sm in slink:
                i = index.get(sm.get("{%s}to" % XLINK))
                if i is not None:
                    links.setdefault(sm.get("{%s}from" % XLINK), []).append(i)
            for child in list(slink):
                slink.remove(child)
            slink.text = "@@LINKS@@"
            for d in logical.iter(DIV):
                got = links.get(d.get("ID"))
                if d is top:
                    self.ranges.insert(0, (d.get("ID"), 0.0, 1.0))
                elif got:
                    self.ranges.append((d.get("ID"), min(got) / n, (max(got) + 1) / n))
            # fptrs to dropped (non-page) files
            for d in logical.iter(DIV):
                for f in d.findall("mets:fptr", NS):
                    d.remove(f)

        ET.indent(root, space="  ")
        text = ET.tostring(root, encoding="unicode")
        if urn:
            text = text.replace(urn, "@@URN@@")
        text = text.replace(self.local_id, "@@ID@@")
        if self.parent_id:
            text = text.replace(self.parent_id, "@@PARENT@@")
        text = re.sub(r'<mods:identifier type="vd1[78]">[^<]*</mods:identifier>', "@@VDIDENT@@", text)
        if "xmlns:xlink=" not in text[:text.index(">")]:
            text = text.replace("<mets:mets ", '<mets:mets xmlns:xlink="%s" ' % XLINK, 1)
        self.parts = TOKEN.split('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n")

    @staticmethod
    def _defects(root, mods, rid):
        found = []
        for lt in mods.findall("mods:language/mods:languageTerm", NS):
            if lt.get("type") != "code" or not re.fullmatch("[a-z]{3}", lt.text or ""):
                found.append("language")
        kd = mods.findall("mods:originInfo/mods:dateIssued[@keyDate='yes']", NS)
        if not kd or any(not re.fullmatch(r"\d{4}(-\d\d){0,2}", d.text or "") for d in kd):
            found.append("date")
        if any(n.find("mods:displayForm", NS) is None for n in mods.findall("mods:name", NS)):
            found.append("displayForm")
        if rid.get("source") is None:
            found.append("source")
        logical = root.find("mets:structMap[@TYPE='LOGICAL']", NS)
        if any(d.get("TYPE") not in DFG_TYPES for d in logical.iter(DIV)):
            found.append("type")
        if root.find("mets:amdSec/mets:rightsMD", NS) is None:
            found.append("rights")
        if any(p.get("ORDER") is None for p in root.findall("mets:structMap[@TYPE='PHYSICAL']/mets:div/mets:div", NS)):
            found.append("order")
        return found

    def _tokenise_mods(self, mods, top, outer):
        o = lambda t: "{%s}%s" % (MODS, t)  # noqa: E731
        for child in list(mods):
            if child.tag in (o("note"), o("abstract"), o("tableOfContents"), o("subject"), o("genre")) or (
                    child.tag == o("classification") and child.get("authority") != "ZVDD") or (
                    child.tag == o("titleInfo") and child.get("type")) or (
                    child.tag == o("relatedItem") and child.get("type") != "host"):
                mods.remove(child)
        ti = mods.find("mods:titleInfo", NS)
        ns_el = ti.find("mods:nonSort", NS)
        if ns_el is not None:
            ti.remove(ns_el)
        ti.find("mods:title", NS).text = "@@TITLE@@"
        self.has_subtitle = ti.find("mods:subTitle", NS) is not None
        if self.has_subtitle:
            ti.find("mods:subTitle", NS).text = "@@SUBTITLE@@"
        host = mods.find("mods:relatedItem[@type='host']/mods:titleInfo/mods:title", NS)
        if host is not None:
            host.text = "@@TITLE@@"
        self.n_names = 0
        for name in mods.findall("mods:name[@type='personal']", NS):
            k = self.n_names
            self.n_names += 1
            for part in name.findall("mods:namePart", NS):
                token = {"family": "FAM", "given": "GIV", "date": "LIFE"}.get(part.get("type"))
                if token:
                    part.text = "@@%s%d@@" % (token, k)
            disp = name.find("mods:displayForm", NS)
            if disp is not None:
                disp.text = "@@FAM%d@@, @@GIV%d@@" % (k, k)
        oi = mods.find("mods:originInfo[@eventType='publication']", NS)
        if oi is not None:
            first = True
            for pt in oi.findall("mods:place/mods:placeTerm", NS):
                pt.text = "@@PLACE@@" if first else pt.text
                first = False
            if oi.find("mods:publisher", NS) is not None:
                oi.find("mods:publisher", NS).text = "@@PUBLISHER@@"
            for d in oi.findall("mods:dateIssued", NS):
                tok = "@@YEAREND@@" if d.get("point") == "end" else "@@YEAR@@"
                d.text = re.sub(r"\d{4}", tok, d.text or "", count=1)
        dig = mods.find("mods:originInfo[@eventType='digitization']/mods:dateCaptured", NS)
        if dig is not None:
            dig.text = "@@CAPTURED@@"
        ext = mods.find("mods:physicalDescription/mods:extent", NS)
        if ext is not None:
            ext.text = "@@EXTENT@@"
        shelf = mods.find("mods:location/mods:shelfLocator", NS)
        if shelf is not None:
            shelf.text = "@@SHELF@@"
        rcd = mods.find("mods:recordInfo/mods:recordChangeDate", NS)
        if rcd is not None:
            rcd.text = "@@CREATEDDAY@@"
        # volume designation
        part = mods.find("mods:part", NS)
        if part is not None:
            num = part.find("mods:detail/mods:number", NS)
            old = num.text
            num.text = "@@VOLNUM@@"
            if part.get("order"):
                part.set("order", "@@VOLORDER@@")
            pn = ti.find("mods:partNumber", NS)
            if pn is not None and old:
                pn.text = pn.text.replace(old, "@@VOLNUM@@")
            if top.get("LABEL") and old:
                top.set("LABEL", top.get("LABEL").replace(old, "@@VOLNUM@@"))
            if top.get("ORDERLABEL"):
                top.set("ORDERLABEL", "@@VOLORDER@@")
        elif top.get("LABEL") is not None:
            top.set("LABEL", "@@TITLE@@")
        if self.kind == "volume" and outer.get("LABEL") is not None:
            outer.set("LABEL", "@@TITLE@@")
        if self.kind == "anchor":
            kids = [d for d in top.findall("mets:div", NS) if d.find("mets:mptr", NS) is not None]
            for k, d in enumerate(kids):
                if k >= 3:
                    top.remove(d)
                    continue
                d.set("LABEL", "@@VOLNUM%d@@" % k)
                d.set("ORDERLABEL", "@@VOLORDER%d@@" % k)
                mp = d.find("mets:mptr", NS)
                href = mp.get(HREF)
                child = re.sub(r"[^=/]+?(\.xml)?$", "@@CHILD%d@@" % k, href)
                mp.set(HREF, child)

    def render(self, values, n_pages):
        """The whole document as a str, for the given token values and page count."""
        parts = self.parts
        out = []
        for k in range(len(parts)):
            if k % 2 == 0:
                out.append(parts[k])
            else:
                key = parts[k]
                if key == "FILES":
                    out.append(self._files(values["ID"], n_pages))
                elif key == "PAGES":
                    out.append(self._pages(n_pages))
                elif key == "LINKS":
                    out.append(self._links(n_pages))
                else:
                    out.append(values[key])
        return "".join(out)

    def _files(self, local_id, n):
        chunks = ["\n"]
        for use, mime, head, tail, width in self.groups:
            head = head % {"id": local_id}
            chunks.append('    <mets:fileGrp USE="%s">\n' % use)
            fmt = ('      <mets:file ID="FILE_%%04d_%s" MIMETYPE="%s">\n'
                   '        <mets:FLocat LOCTYPE="URL" xlink:href="%s%%0%dd%s" />\n'
                   '      </mets:file>\n') % (use, mime, head.replace("%", "%%"), width, tail.replace("%", "%%"))
            chunks.append("".join([fmt % (i, i) for i in range(1, n + 1)]))
            chunks.append("    </mets:fileGrp>\n")
        chunks.append("  ")
        return "".join(chunks)

    def _pages(self, n):
        fptrs = "".join('        <mets:fptr FILEID="FILE_%%04d_%s" />\n' % g[0] for g in self.groups)
        if self.has_order:
            fmt = '      <mets:div ID="PHYS_%04d" ORDER="%d" ORDERLABEL="%s" TYPE="page">\n'
        else:
            fmt = '      <mets:div ID="PHYS_%04d" ORDERLABEL="%s" TYPE="page">\n'
        labels = page_labels(n)
        per = len(self.groups)
        out = ["\n"]
        for i in range(1, n + 1):
            out.append(fmt % ((i, i, labels[i - 1]) if self.has_order else (i, labels[i - 1])))
            out.append(fptrs % ((i,) * per))
            out.append("      </mets:div>\n")
        out.append("    ")
        return "".join(out)

    def _links(self, n):
        out = ["\n"]
        fmt = '    <mets:smLink xlink:from="%s" xlink:to="PHYS_%04d" />\n'
        for div_id, a, b in self.ranges:
            first = min(n, int(a * n) + 1)
            last = max(first, min(n, int(round(b * n))))
            out.extend([fmt % (div_id, i) for i in range(first, last + 1)])
        out.append("  ")
        return "".join(out)

    def page_slope(self, local_id):
        """Bytes one more page adds (its files, physical div and structLinks), measured."""
        size = lambda n: len(self._files(local_id, n) + self._pages(n) + self._links(n))  # noqa: E731
        return (size(60) - size(20)) / 40.0


def page_labels(n):
    if n < 4:
        return [str(i) for i in range(1, n + 1)]
    return [" - ", "[I]", "[II]"] + [str(i) for i in range(1, n - 3)] + [" - "]


def load_templates(folder):
    return [Template(os.path.join(folder, fn)) for fn in sorted(os.listdir(folder)) if fn.endswith(".xml")]


def pools(templates):
    """(clean, defective) template lists."""
    return ([t for t in templates if not t.defects], [t for t in templates if t.defects])


# --------------------------------------------------------------------------------------
# Metadata for one record
# --------------------------------------------------------------------------------------
def person(rng, year):
    born = year - rng.randint(28, 65)
    return (rng.choice(FAMILY), rng.choice(GIVEN), "%d-%d" % (born, born + rng.randint(45, 82)))


def title_for(rng, lang, collection, year):
    place = rng.choice(PLACES)
    if lang == "lat":
        return ("%s %s de %s" % (rng.choice(LAT_KIND), rng.choice(LAT_ADJ), rng.choice(LAT_TOPIC)),
                rng.choice(LAT_SUB))
    if lang == "fre":
        return ("%s sur %s" % (rng.choice(FRE_KIND), rng.choice(FRE_TOPIC).format(P=place)),
                rng.choice(FRE_SUB))
    noun, ending = rng.choice(NOUNS)
    topic = rng.choice(TOPICS[collection]).format(P=place, Y=year - rng.randint(0, 3), F=rng.choice(FAMILY))
    return "%s%s %s von %s" % (rng.choice(ADJ), ending, noun, topic), rng.choice(SUBTITLES)


def publisher_for(rng, lang):
    g, f = rng.choice(GIVEN), rng.choice(FAMILY)
    if lang == "lat":
        return "Typis %sianis" % f
    if lang == "fre":
        return "Chez %s %s" % (g, f)
    return rng.choice(["Gedruckt bey %s %s" % (g, f), "Bey %s %s" % (g, f),
                       "In der %sischen Buchhandlung" % f, "Verlegts %s %s" % (g, f)])


def vd_ident(rng, year):
    if year <= 1600:
        return ""
    if year <= 1700:
        return '<mods:identifier type="vd17">%d:%06d%s</mods:identifier>' % (
            rng.choice((1, 3, 7, 12, 14, 23, 39, 547)), rng.randint(100000, 999999), rng.choice("ABCDEFGHKLMNPQRSTVWXYZ"))
    if year <= 1800:
        return '<mods:identifier type="vd18">%08d</mods:identifier>' % rng.randint(10000000, 99999999)
    return ""


def base_values(rng, tpl, local_id, year):
    created = "%d-%02d-%02dT%02d:%02d:%02d" % (rng.randint(2019, 2024), rng.randint(1, 12), rng.randint(1, 28),
                                              rng.randint(7, 18), rng.randint(0, 59), rng.randint(0, 59))
    return {"ID": local_id, "URN": urn_for(local_id), "CREATED": created, "CREATEDDAY": created[:10],
            "CAPTURED": created[:4], "YEAR": str(year), "YEAREND": str(year + 2),
            "VDIDENT": vd_ident(rng, year),
            "SHELF": esc("%s %s %d" % (SHELF.get(tpl.collection, "Gesch."), rng.choice(("4°", "8°")),
                                       rng.randint(1, 9999)))}


def bibliographic(rng, lang, collection, year, n_names):
    title, sub = title_for(rng, lang, collection, year)
    return {"title": title, "sub": sub, "people": [person(rng, year) for _ in range(max(n_names, 1))],
            "place": rng.choice(PLACES), "publisher": publisher_for(rng, lang)}


def fill_people(values, people, rng, year, n):
    people = list(people)
    while len(people) < n:
        people.append(person(rng, year))
    for k in range(n):
        fam, giv, life = people[k]
        values["FAM%d" % k], values["GIV%d" % k], values["LIFE%d" % k] = esc(fam), esc(giv), life


def fill_biblio(values, b):
    values["TITLE"] = esc(b["title"])
    values["SUBTITLE"] = esc(b["sub"])
    values["PLACE"] = esc(b["place"])
    values["PUBLISHER"] = esc(b["publisher"])


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------
class Generator:
    def __init__(self, args):
        self.args = args
        templates = load_templates(args.templates)
        self.monographs = pools([t for t in templates if t.kind == "monograph"])
        self.volumes = {}
        for a in {t.anchor_type for t in templates if t.kind == "volume"}:
            self.volumes[a] = pools([t for t in templates if t.kind == "volume" and t.anchor_type == a])
        self.anchors = [t for t in templates if t.kind == "anchor" and not t.defects
                        and self.volumes.get(t.top_type, ([], []))[0]]
        if not self.monographs[0]:
            raise SystemExit("no defect-free monograph template in %s" % args.templates)
        if args.multivolume and not self.anchors:
            raise SystemExit("--multivolume needs anchor and volume templates in %s" % args.templates)
        self.lo, self.hi = args.min_kb * 1024, args.max_kb * 1024
        sample_id = self.local_id(0)
        self.slopes = {id(t): t.page_slope(sample_id) for t in templates if t.groups}

    def pick(self, rng, pool):
        """A template: a defective one with probability --defects, else a clean one."""
        clean, defective = pool
        if defective and rng.random() < self.args.defects:
            return rng.choice(defective)
        return rng.choice(clean)

    def local_id(self, number):
        return "%s_%07d" % (self.args.prefix, number)

    def rng(self, number, salt=0):
        return random.Random((self.args.seed * 1000003 + number) * 7 + salt)

    def role(self, number):
        """('mono',) | ('anchor',) | ('volume', anchor_number, k) for record number (1-based)."""
        k = self.args.multivolume
        if k:
            start = (number // k) * k
            if start and number - start < 4 and start + 3 <= self.args.count:
                return ("anchor",) if number == start else ("volume", start, number - start - 1)
        return ("mono",)

    def anchor_plan(self, number):
        rng = self.rng(number, 1)
        tpl = rng.choice(self.anchors)
        year = max(1601, min(1897, tpl.year + rng.randint(-40, 40)))
        b = bibliographic(rng, tpl.lang, tpl.collection, year, tpl.n_names)
        return tpl, year, b, rng

    def sized(self, tpl, values, number):
        """Render tpl with as many pages as bring the file to a size drawn from [min-kb, max-kb]."""
        if not tpl.groups:
            return tpl.render(values, 0).encode("utf-8")
        target = self.rng(number, 2).uniform(self.lo, self.hi)
        slope = self.slopes[id(tpl)]
        values["EXTENT"] = "[2] Bl., 100 S."
        base = len(tpl.render(values, 0).encode("utf-8"))
        n = max(1, int(round((target - base) / slope)))
        for _ in range(8):
            values["EXTENT"] = "[2] Bl., %d S." % max(1, n - 4)
            data = tpl.render(values, n).encode("utf-8")
            if self.lo <= len(data) <= self.hi or (len(data) > self.hi and n == 1):
                break
            step = max(1, int(abs(target - len(data)) / slope))
            n = max(1, n + step if len(data) < self.lo else n - step)
        return data

    def record(self, number):
        local_id = self.local_id(number)
        role = self.role(number)
        if role[0] == "mono":
            rng = self.rng(number)
            tpl = self.pick(rng, self.monographs)
            year = max(1601, min(1899, tpl.year + rng.randint(-40, 40)))
            values = base_values(rng, tpl, local_id, year)
            b = bibliographic(rng, tpl.lang, tpl.collection, year, tpl.n_names)
            fill_biblio(values, b)
            fill_people(values, b["people"], rng, year, tpl.n_names)
            return local_id, self.sized(tpl, values, number)
        if role[0] == "anchor":
            tpl, year, b, rng = self.anchor_plan(number)
            values = base_values(rng, tpl, local_id, year)
            fill_biblio(values, b)
            fill_people(values, b["people"], rng, year, tpl.n_names)
            periodical = tpl.top_type != "multivolume_work"
            values["EXTENT"] = "3 Jahrgänge" if periodical else "3 Theile"
            for k in range(3):
                values["CHILD%d" % k] = self.local_id(number + 1 + k)
                values["VOLNUM%d" % k] = str(year + k) if periodical else THEILE[k]
                values["VOLORDER%d" % k] = str(year + k) if periodical else str(k + 1)
            return local_id, tpl.render(values, 0).encode("utf-8")
        _, anchor_no, k = role
        atpl, ayear, b, _ = self.anchor_plan(anchor_no)
        rng = self.rng(number)
        tpl = self.pick(rng, self.volumes[atpl.top_type])
        year = ayear + k
        values = base_values(rng, tpl, local_id, year)
        fill_biblio(values, b)
        fill_people(values, b["people"], rng, year, tpl.n_names)
        periodical = atpl.top_type != "multivolume_work"
        values["PARENT"] = self.local_id(anchor_no)
        values["VOLNUM"] = str(year) if periodical else THEILE[k]
        values["VOLORDER"] = str(year) if periodical else str(k + 1)
        return local_id, self.sized(tpl, values, number)

    def write_folder(self, folder):
        first = folder * FILES_PER_FOLDER + 1
        last = min(self.args.count, first + FILES_PER_FOLDER - 1)
        out_dir = os.path.join(self.args.out, "%05d" % folder)
        os.makedirs(out_dir, exist_ok=True)
        total = 0
        for number in range(first, last + 1):
            local_id, data = self.record(number)
            with open(os.path.join(out_dir, local_id + ".xml"), "wb") as f:
                f.write(data)
            total += len(data)
        return last - first + 1, total


_GEN = None


def _init_worker(args):
    global _GEN
    _GEN = Generator(args)


def _work(folder):
    return _GEN.write_folder(folder)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Generate synthetic Goobi/Kitodo-style METS/MODS records from the demo collection's "
                    "monographs and volumes, for benchmarks and harvester tests.",
        epilog="Files go to OUT/00000/, OUT/00001/, ... (1,000 per folder) as <prefix>_<7 digits>.xml. "
               "The same --seed gives the same files, whatever --jobs is.")
    p.add_argument("--count", type=int, required=True, help="number of files to write")
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--min-kb", type=float, default=20, help="smallest file size in KiB (default 20)")
    p.add_argument("--max-kb", type=float, default=60, help="largest file size in KiB (default 60)")
    p.add_argument("--prefix", default="synth", help="local id prefix (default 'synth')")
    p.add_argument("--multivolume", type=int, default=0, metavar="K",
                   help="every K-th record number starts an anchor followed by 3 volumes (K >= 4; default 0 = off)")
    p.add_argument("--defects", type=float, default=0.1, metavar="SHARE",
                   help="share of records built from a template with a workflow defect (default 0.1; 0 = none)")
    p.add_argument("--templates", default=os.path.normpath(DEFAULT_TEMPLATES),
                   help="template folder (default fixtures/demo/main next to this script)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    args = p.parse_args(argv)
    if not 0 <= args.defects <= 1:
        p.error("--defects must be between 0 and 1")
    if args.count < 0:
        p.error("--count must be >= 0")
    if not 0 < args.min_kb <= args.max_kb:
        p.error("need 0 < --min-kb <= --max-kb")
    if args.multivolume and args.multivolume < 4:
        p.error("--multivolume K needs K >= 4 (an anchor and its 3 volumes take 4 record numbers)")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", args.prefix):
        p.error("--prefix must start with a letter and contain only letters, digits, '_', '.', '-'")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.time()
    folders = list(range((args.count + FILES_PER_FOLDER - 1) // FILES_PER_FOLDER))
    if args.jobs > 1 and len(folders) > 1:
        import multiprocessing
        with multiprocessing.Pool(args.jobs, _init_worker, (args,)) as pool:
            results = pool.map(_work, folders, chunksize=1)
    else:
        gen = Generator(args)
        results = [gen.write_folder(f) for f in folders]
    files = sum(r[0] for r in results)
    size = sum(r[1] for r in results)
    took = time.time() - started
    if not args.quiet:
        print("%d files, %.1f MB, in %.1f s (%.0f files/s) -> %s" % (
            files, size / 1e6, took, files / took if took else 0, args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
