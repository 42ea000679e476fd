"""mcp-kb-01: FinanceApp's support knowledge base, an MCP server in Python.

The demo runs it under `mcp-audit wrap`: no MCP SDK, no OpenTelemetry, no logging of its own,
like most servers in the wild. Standard library only (no pip step), so `npm start` needs nothing
but python3. Speaks newline-delimited JSON-RPC 2.0 over stdio: initialize, ping, tools/list and
tools/call for two tools, kb_search and kb_read. Diagnostics go to stderr; stdout is the protocol.
"""

import json
import sys

SERVER_INFO = {"name": "mcp-kb-01", "version": "1.4.2"}
PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

ARTICLES = {
    "KB-112": {
        "title": "Refunds and chargebacks",
        "body": "Refunds up to $10,000 may be approved by any support agent. Larger refunds need "
        "a manager's approval in the ticket before money moves. Never promise a refund date.",
    },
    "KB-118": {
        "title": "Sharing customer data",
        "body": "Customer records stay in the CRM. Do not paste SSNs, full card numbers or "
        "account exports into Slack or email; link the CRM record instead.",
    },
    "KB-131": {
        "title": "Escalating a disputed balance",
        "body": "Open a ticket with the customer id and the disputed amount, tag #billing, and "
        "reply to the customer with the ticket number.",
    },
}

TOOLS = [
    {
        "name": "kb_search",
        "description": "Search the support knowledge base; returns article ids, titles and snippets.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 500},
                "limit": {"type": "integer", "minimum": 1, "maximum": 10},
            },
            "required": ["query"],
        },
        "annotations": {"readOnlyHint": True},
    },
    {
        "name": "kb_read",
        "description": "Read one knowledge-base article by id.",
        "inputSchema": {
            "type": "object",
            "properties": {"id": {"type": "string", "pattern": "^KB-[0-9]+$"}},
            "required": ["id"],
        },
        "annotations": {"readOnlyHint": True},
    },
]


def tool_result(payload, is_error=False):
    if is_error:
        return {"content": [{"type": "text", "text": payload}], "isError": True}
    return {"content": [{"type": "text", "text": json.dumps(payload)}], "structuredContent": payload}


def kb_search(args):
    query = args.get("query")
    limit = args.get("limit", 3)
    if not isinstance(query, str) or not query.strip():
        return tool_result("query must be a non-empty string", True)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 10:
        return tool_result("limit must be an integer from 1 to 10", True)
    words = [w for w in query.lower().split() if len(w) > 2]

    def score(article):
        text = (article["title"] + " " + article["body"]).lower()
        return sum(text.count(w.rstrip("s")) for w in words)

    ranked = sorted(ARTICLES.items(), key=lambda item: (-score(item[1]), item[0]))
    hits = [
        {"id": aid, "title": a["title"], "snippet": a["body"][:80]}
        for aid, a in ranked
        if score(a) > 0
    ][:limit]
    return tool_result({"results": hits, "total": len(hits)})


def kb_read(args):
    article_id = args.get("id")
    article = ARTICLES.get(article_id) if isinstance(article_id, str) else None
    if article is None:
        return tool_result(f"no such article: {article_id}", True)
    return tool_result({"id": article_id, **article})


HANDLERS = {"kb_search": kb_search, "kb_read": kb_read}


def handle(method, params):
    """The result of a request, or raises LookupError / ValueError for a JSON-RPC error."""
    if method == "initialize":
        asked = params.get("protocolVersion")
        return {
            "protocolVersion": asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": SERVER_INFO,
        }
    if method == "ping":
        return {}
    if method == "tools/list":
        return {"tools": TOOLS}
    if method == "tools/call":
        handler = HANDLERS.get(params.get("name"))
        if handler is None:
            raise ValueError(f"unknown tool: {params.get('name')}")
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise ValueError("arguments must be an object")
        return handler(arguments)
    raise LookupError(f"method not found: {method}")


def reply(message):
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def serve_line(line):
    try:
        message = json.loads(line)
    except ValueError:
        reply({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
        return
    if not isinstance(message, dict) or "method" not in message:
        return  # a response or a batch: this server never sends requests, so nothing to match
    if "id" not in message:
        return  # a notification (notifications/initialized, notifications/cancelled)
    params = message.get("params")
    try:
        result = handle(message["method"], params if isinstance(params, dict) else {})
        reply({"jsonrpc": "2.0", "id": message["id"], "result": result})
    except LookupError as err:
        reply({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": str(err)}})
    except ValueError as err:
        reply({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32602, "message": str(err)}})


def main():
    sys.stderr.write(f"[{SERVER_INFO['name']}] ready on stdio (python {sys.version.split()[0]})\n")
    sys.stderr.flush()
    for line in sys.stdin:
        if line.strip():
            serve_line(line)


if __name__ == "__main__":
    main()
