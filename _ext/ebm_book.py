"""Book-wide fixes applied while Jupyter Book (Sphinx, MyST-NB) builds the book; the notebooks stay as they are.

- nbdev directive lines (`#| export`, `#| slow`, ...) are removed from every code cell before the
  notebook is parsed and executed; a cell marked `#| hide` is removed from the page.
- Figures (and tables, code blocks) are numbered from 1 in every chapter; equations too
  (`math_numfig: false` in _config.yml). A reference to an equation of another chapter names that
  chapter, so "(3)" is never ambiguous.
- An image inside a figure gets the figure's caption as its alt text.
- The bibliography labels its entries the way the text cites them: "Hinton, 2002",
  "Tieleman and Hinton, 2009", "Goodfellow et al., 2016" (pybtex style `author_year_labels`).
"""
import json
import re

from docutils import nodes
from pybtex.plugin import find_plugin, register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.domains.math import MathDomain

DIRECTIVE = re.compile(r"^\s*#\|")


def strip_directives(app, docname, source):
    "Drop nbdev directive lines from the code cells of a notebook's JSON source"
    if not app.env.doc2path(docname).endswith(".ipynb"):
        return
    notebook = json.loads(source[0])
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines(keepends=True)
        directives = [line.split()[1] if len(line.split()) > 1 else "" for line in lines if DIRECTIVE.match(line)]
        if not directives:
            continue
        cell["source"] = "".join(line for line in lines if not DIRECTIVE.match(line))
        if "hide" in directives:
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            tags += [] if "remove-cell" in tags else ["remove-cell"]
    source[0] = json.dumps(notebook)


def alt_from_caption(app, doctree):
    "Give every image in a captioned figure the caption's text as alt text"
    for figure in doctree.findall(nodes.figure):
        captions = list(figure.findall(nodes.caption))
        if not captions:
            continue
        text = " ".join(captions[0].astext().split())
        for image in figure.findall(nodes.image):
            if not image.get("alt"):
                image["alt"] = text


def number_per_document(app, env):
    "Renumber figures, tables and code blocks from 1 in each document, keeping their order"
    changed = []
    for docname, kinds in env.toc_fignumbers.items():
        for kind, numbers in kinds.items():
            ordered = sorted(numbers, key=numbers.get)
            renumbered = {node_id: (i,) for i, node_id in enumerate(ordered, 1)}
            if renumbered != numbers:
                kinds[kind] = renumbered
                changed.append(docname)
    return sorted(set(changed))


class ChapterMathDomain(MathDomain):
    "Equation numbers restart in every chapter, so a reference into another chapter names it"

    def resolve_xref(self, env, fromdocname, builder, typ, target, node, contnode):
        reference = super().resolve_xref(env, fromdocname, builder, typ, target, node, contnode)
        docname = self.equations.get(target, (None, None))[0]
        if reference is not None and docname not in (None, fromdocname) and docname in env.titles:
            reference += nodes.Text(" in " + env.titles[docname].astext())
        return reference


class AuthorYearLabels(BaseLabelStyle):
    "Labels as the text cites: last names (one, two, or the first et al.), a comma, the year"

    def format_labels(self, sorted_entries):
        name_style = find_plugin("pybtex.style.names", "last")()
        labels = []
        for entry in sorted_entries:
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [name_style.format(person, True).format().render_as("text") for person in persons]
            who = (names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2
                   else f"{names[0]} et al." if names else entry.fields.get("title", entry.key))
            labels.append(f"{who}, {entry.fields.get('year', 'n.d.')}")
        counts = {label: labels.count(label) for label in labels}
        seen = {}
        for label in labels:  # the same authors and year twice: 2002a, 2002b
            if counts[label] > 1:
                seen[label] = seen.get(label, 0) + 1
                label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label


class AuthorYearStyle(PlainStyle):
    "pybtex's plain style (sorted by author, year, title) with author-year labels"

    default_label_style = "author_year_labels"


def setup(app):
    register_plugin("pybtex.style.labels", "author_year_labels", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "author_year_labels", AuthorYearStyle)
    app.add_domain(ChapterMathDomain, override=True)
    app.connect("source-read", strip_directives)
    app.connect("doctree-read", alt_from_caption)
    app.connect("env-get-updated", number_per_document, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
