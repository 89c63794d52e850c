"""Nulägesbild: the municipality's anonymised, gender-disaggregated situation overview of violence in
close relationships and honour-related violence.

- tables.py: the fixed, pre-approved table templates (no free filters);
- aggregate.py: counting them in the database from the pseudonymous statistics records;
- suppression.py: disclosure control (primary, small and whole groups, secondary suppression);
- content.py: the published content, its canonical JSON and SHA-256;
- models.py, release.py: drafts, immutable releases and their audited workflow;
- render_html.py, render_pdf.py, render_csv.py: the outputs, made from the published content only;
- views.py: the chef's pages.
"""
