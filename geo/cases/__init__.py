"""Cases handled like a 12345 centre (issue 19): who owns a report, transfer (转派) and
extension, the return visit (一事一回访), reminders through a notification hook, and the
mediation of disputes.

- ``settings``: the ``[cases]`` configuration;
- ``owners``: owners (staff / department / mediation room) and auto-dispatch;
- ``timeline``: case events beside the report's steps, a case's status;
- ``rules``: who may do what, and when (``CaseError`` on refusal);
- ``limits``: the limit in force after extensions, overdue and nearing;
- ``workload``: an owner's open cases, the count per owner;
- ``reminders``, ``hook``: which cases to remind, the outgoing notification;
- ``mediation``: mediation records, sessions, mediators;
- ``figures``: case and mediation-room figures;
- ``demo``: the demo's case data.
"""
