"""Every write to the database goes through a function in this package, one module per
entity (projects, people, codebook, documents, assignments, spans, review, agreement),
plus imports and the seed, which call the entity modules. Callers import the module they
use; there is no package-level facade. Each service runs in one transaction and records
an audit event in it (see ``base``)."""
