"""PDE solvers, one module per equation: step or solve functions, initial-state generators,
reference solutions and stability limits. No networks here."""
