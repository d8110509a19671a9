"""The fangpin engine (流程引擎): deploying and running the procedure diagrams with SpiffWorkflow, the
domain records, and the service API that the command line and the web UI call. It never imports ``web``."""
