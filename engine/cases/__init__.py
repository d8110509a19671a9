"""Cases (案件): a procedure run for a household — opening it, completing its human tasks, waking its timers,
publicity actions, its deadlines and task projection, the functions its diagram may call (the only bridge
from a diagram to the records), migrating it to another version, self-application, and reading it for the
officials' pages.

It runs diagrams (engine.bpmn) and acts on households; it knows nothing of supervision, warnings or the
diagram library above it.
"""
