"""bamon-web: the socket-activated REST API and dashboard (bamon.web.socket → bamon.web.service).

Modules: server (socket activation, idle exit), app (routes, middleware), auth + store (users,
tokens, sessions), api_* (one module per group of routes), events (the live WebSocket), writer +
helper (every write goes through bamon.manage, in this process or in the privileged helper).
"""
