"""What a sweep's runs say, from their results files alone: no TensorFlow is imported here.

- report, figure: a sweep folder's results.csv, summary.json, results.md; results.png
- stats, verdicts: intervals over seeds and their family-wise correction; the sentences they
  are reported in
- scale: the activation scale, from "nothing" (linear) to ReLU
- markdown: the tables and wrapped text the reports and the docs are written in
"""
