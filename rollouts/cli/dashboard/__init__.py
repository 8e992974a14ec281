"""`kubectl rollouts dashboard`: the plugin's views and actions in a web page, live.

The dashboard is the plugin drawn in HTML rather than a new product: the Rollout summary is the plugin's
`rollout_info` (Argo's rules for phase, step, set and actual weight), the Application tree is the plugin's
`app_tree.build_tree`, and every button runs the plugin's own planner and sender (rollouts.cli.actions), so a
button sends exactly the patches the command sends. The server holds one informer per kind, whatever the number
of open tabs, and pushes a "changed" event to each page (server-sent events); pages then read the server's
caches, never the API server.

hub      the shared informers, their errors, and the change notifications
pages    what each page shows, as JSON, computed from cached objects (pure)
server   the aiohttp application: pages, JSON API, event stream, actions, the security checks
command  the `dashboard` command itself
static/  the page: plain HTML, CSS and JavaScript (no build step, nothing from a CDN)
"""
