"""Infrastructure: the database (``db``) and unit of work (``uow``), the job queue that runs
Slack work after commits (``jobs``), settings (``config``), logs and operator metrics (``logs``,
``observability``)."""
