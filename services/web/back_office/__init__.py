"""The staff back office (`/office/`): one module per area of a day's work.

    auth      signing in and out, the language switch, each role's home page
    queue     the work queue: counters, filters, search, pages
    cases     one request: what it holds, its deadlines and timeline, and every action
    callers   the call center: check a caller's identity, submit for them, read them a status
    paper     the complaint box: a paper request keyed in with its scan, and its receipt
    sealed    the integrity commission: the sealed-report inbox, envelopes, acknowledgements
    directory the CMU administrators' directory: sectors, entities, departments, classifications
    people    people, their roles, scopes and permissions; new accounts, resets, deactivation
    calendar  days off, Ramadan, the days of a month, the SLA policy's versions
    forms     the administrators' forms, described once and drawn by one template
"""
