"""Loading a function's handler, `module.function` from the Handler setting, with the
faults the Python runtime answers (awslambdaric `_get_handler`): a name without a dot is
Runtime.MalformedHandlerName "Bad handler '<h>': <why>"; a module named like a built-in
one Runtime.BuiltInModuleConflict; a module that cannot be imported
Runtime.ImportModuleError "Unable to import module '<m>': <why>"; one with a syntax error
Runtime.UserCodeSyntaxError "Syntax error in module '<m>': <why>"; a missing function
Runtime.HandlerNotFound "Handler '<f>' missing on module '<m>'". A module path may use
slashes (`src/app.handler`). Standard library only."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

from cove.functions.runtime.faults import Fault, FaultType

Handler = Callable[[Any, Any], Any]


def load(name: str) -> Handler:
    try:
        module_name, function = name.rsplit(".", 1)
    except ValueError as exc:
        raise Fault(FaultType.MALFORMED_HANDLER, f"Bad handler '{name}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            FaultType.BUILT_IN_MODULE,
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            FaultType.IMPORT_MODULE, f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(
            FaultType.SYNTAX, f"Syntax error in module '{module_name}': {exc}", trace
        ) from None
    try:
        return getattr(module, function)
    except AttributeError:
        raise Fault(
            FaultType.HANDLER_NOT_FOUND, f"Handler '{function}' missing on module '{module_name}'"
        ) from None
