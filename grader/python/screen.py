# screen.py - read a learner's solution.py (never run it) and refuse what
# would let it reach past its own module: the harness's objects, the
# interpreter's internals, code the screen cannot see.  Run by the grader
# in a box as
#
#   python3 -I -S -B screen.py ALLOWED solution.py
#
# (ALLOWED: the modules it may import, comma-separated, from grader/python.c)
#
# and prints one JSON object: {"ok": true} or {"ok": false, "why": ...}.
#
# Python offers no boundary inside one interpreter: code that can name
# frames, globals or the garbage collector can reach and rewrite anything.
# So the solution may import only the listed modules, may not name what
# leads to another module's objects (dunders outside a short list, frame
# and code attributes, sys.modules, the switch interval, the event loop's
# debug settings), may not run code from text (eval, exec, compile,
# __import__), may not look attributes up by computed name, and may not
# assign to another module's attributes (monkey-patching).
import ast
import json
import sys


# Names that run text as code, look names up by string, or reach the
# interpreter's tables; refused wherever they appear.
NAMES = {
    "eval": "runs text as code", "exec": "runs text as code",
    "compile": "runs text as code", "__import__": "imports by string",
    "globals": "reaches the module's namespace",
    "locals": "reaches a frame's namespace",
    "vars": "reaches an object's namespace",
    "breakpoint": "starts a debugger", "setattr": "sets attributes by name",
    "delattr": "deletes attributes by name",
    "__builtins__": "reaches the interpreter's built-ins",
    "__loader__": "reaches the import machinery",
    "__spec__": "reaches the import machinery",
}

# Attribute names refused on any object.
ATTRS = {
    "modules": "sys.modules holds the harness",
    "_getframe": "frames reach the harness", "_current_frames": "frames",
    "settrace": "tracing rewrites other code",
    "setprofile": "profiling hooks run in other code",
    "setswitchinterval": "the grader sets the switch interval",
    "meta_path": "the import machinery", "path_hooks": "the import machinery",
    "path_importer_cache": "the import machinery",
    "addaudithook": "audit hooks",
    "set_debug": "the grader runs the event loop in debug mode",
    "slow_callback_duration": "the grader sets the slow-callback limit",
    "set_exception_handler": "the grader's event loop",
    "tb_frame": "frames", "f_back": "frames", "f_globals": "frames",
    "f_locals": "frames", "f_builtins": "frames", "f_code": "frames",
    "gi_frame": "frames", "cr_frame": "frames", "ag_frame": "frames",
    "gi_code": "code objects", "cr_code": "code objects",
    "get_stack": "frames", "print_stack": "frames",
    "attrgetter": "looks attributes up by name",
    "methodcaller": "looks methods up by name",
    "system": "runs other programs", "popen": "runs other programs",
    "execv": "runs other programs", "execve": "runs other programs",
    "execl": "runs other programs", "execlp": "runs other programs",
    "execvp": "runs other programs", "execvpe": "runs other programs",
    "execle": "runs other programs", "execlpe": "runs other programs",
    "spawnv": "runs other programs", "spawnve": "runs other programs",
    "spawnl": "runs other programs", "spawnlp": "runs other programs",
    "posix_spawn": "runs other programs", "posix_spawnp": "runs other "
    "programs", "set_executable": "runs other programs",
    "set_forkserver_preload": "imports by name",
    "set_start_method": "the grader fixes how processes start",
    "get_context": "the grader fixes how processes start",
    "load_module": "the import machinery", "exec_module": "the import "
    "machinery",
}

# Dunder attributes a solution may use; others reach interpreter internals.
DUNDERS = {
    "__init__", "__name__", "__qualname__", "__doc__", "__len__",
    "__iter__", "__next__", "__enter__", "__exit__", "__aenter__",
    "__aexit__", "__await__", "__aiter__", "__anext__", "__call__",
    "__repr__", "__str__", "__eq__", "__hash__", "__lt__", "__class__",
    "__getitem__", "__setitem__", "__contains__",
}


class Refused(Exception):
    def __init__(self, node, why):
        super().__init__("solution.py, line %d: %s" % (
            getattr(node, "lineno", 0), why))


def attr_ok(node, name):
    if name in ATTRS:
        raise Refused(node, "\"%s\" is not allowed (%s)" % (name,
                                                           ATTRS[name]))
    if name.startswith("__") and name.endswith("__") and name not in DUNDERS:
        raise Refused(node, "\"%s\" is not allowed: it reaches the "
                      "interpreter's internals" % name)


def module_ok(node, name, allowed):
    if name is None or name.split(".")[0] not in allowed:
        raise Refused(node, "importing %s is not allowed in this exercise "
                      "(allowed: %s)" % (name, ", ".join(sorted(allowed))))


def screen(tree, allowed):
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                module_ok(node, a.name, allowed)
                imported.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise Refused(node, "relative imports are not allowed")
            module_ok(node, node.module, allowed)
            for a in node.names:
                if a.name == "*":
                    raise Refused(node, "\"import *\" is not allowed")
                attr_ok(node, a.name)
                if a.name.startswith("_"):
                    raise Refused(node, "importing private names is not "
                                  "allowed")
        elif isinstance(node, ast.Name) and node.id in NAMES:
            raise Refused(node, "\"%s\" is not allowed (%s)" % (
                node.id, NAMES[node.id]))
        elif isinstance(node, ast.Attribute):
            attr_ok(node, node.attr)
            if isinstance(node.value, ast.Name) and node.value.id == "sys" \
                    and node.attr == "path":
                raise Refused(node, "sys.path is fixed")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # A name spelled as a string (getattr's, a pickle's) reaches
            # the same things.
            word = node.value
            if word.isidentifier() and (word in ATTRS or word in NAMES or (
                    word.startswith("__") and word.endswith("__") and
                    word not in DUNDERS)):
                raise Refused(node, "the string \"%s\" names something "
                              "solutions may not use" % word)
    # getattr only with a literal name, which the rules above then see.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "hasattr"):
            if len(node.args) < 2 or not (
                    isinstance(node.args[1], ast.Constant) and
                    isinstance(node.args[1].value, str)):
                raise Refused(node, "%s needs a literal attribute name" %
                              node.func.id)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ("getattr", "hasattr") \
                and id(node) not in calls:
            raise Refused(node, "%s may only be called directly" % node.id)
        # Monkey-patching: assigning to or deleting an imported module's
        # attribute changes it for the harness as well.
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Attribute) and isinstance(
                        sub.value, ast.Name) and sub.value.id in imported:
                    raise Refused(sub, "assigning to %s.%s is not allowed: "
                                  "it would change the module for the "
                                  "harness too" % (sub.value.id, sub.attr))
        # Globals of other modules may not be rebound through "global".
        if isinstance(node, ast.Global):
            for n in node.names:
                if n in imported:
                    raise Refused(node, "rebinding the module %s is not "
                                  "allowed" % n)


def main():
    allowed = {m for m in sys.argv[1].split(",") if m}
    with open(sys.argv[2], "rb") as f:
        src = f.read()
    try:
        tree = ast.parse(src, filename="solution.py")
        screen(tree, allowed)
        res = {"ok": True}
    except SyntaxError as e:
        res = {"ok": False, "why": "solution.py, line %s: %s: %s" % (
            e.lineno, type(e).__name__, e.msg), "syntax": True}
    except Refused as e:
        res = {"ok": False, "why": str(e)}
    except (RecursionError, MemoryError, ValueError) as e:
        res = {"ok": False, "why": "solution.py cannot be read: %s" % (
            type(e).__name__,)}
    sys.stdout.write(json.dumps(res) + "\n")


main()
