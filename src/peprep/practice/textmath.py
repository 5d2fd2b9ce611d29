r"""LaTeX as readable Unicode text, for the terminal (`peprep review`, `peprep mock`).

`\mathrm{Attn}(PX)=P\,\mathrm{Attn}(X)` becomes `Attn(PX)=P Attn(X)`, `\theta_i = 10000^{-2i/d}`
becomes `θᵢ = 10000^(-2i/d)`, `\frac{q^\top k}{\sqrt{d}}` becomes `qᵀk/√d`. Sub- and superscripts use
Unicode small digits and letters when every character has one, else `_(…)` / `^(…)`. Unknown commands
lose their backslash. It is a reading aid, not a renderer: the web app renders the real thing with KaTeX.
"""

from __future__ import annotations

import re

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
SYMBOLS = {
    "cdot": "·", "times": "×", "div": "÷", "pm": "±", "mp": "∓", "top": "ᵀ", "intercal": "ᵀ", "in": "∈",
    "notin": "∉", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
    "sim": "~", "simeq": "≃", "equiv": "≡", "propto": "∝", "to": "→", "rightarrow": "→", "Rightarrow": "⇒",
    "leftarrow": "←", "Leftarrow": "⇐", "leftrightarrow": "↔", "iff": "⇔", "implies": "⇒", "mapsto": "↦",
    "infty": "∞", "sum": "Σ", "prod": "Π", "int": "∫", "partial": "∂", "nabla": "∇", "odot": "⊙",
    "otimes": "⊗", "oplus": "⊕", "circ": "∘", "star": "⋆", "ast": "∗", "langle": "⟨", "rangle": "⟩",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "|": "‖", "Vert": "‖", "vert": "|", "mid": "|",
    "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱", "forall": "∀", "exists": "∃",
    "neg": "¬", "land": "∧", "lor": "∨", "cap": "∩", "cup": "∪", "subset": "⊂", "subseteq": "⊆",
    "emptyset": "∅", "perp": "⊥", "parallel": "∥", "ell": "ℓ", "hbar": "ħ", "prime": "′", "triangleq": "≜",
    "coloneqq": "≔", "ll": "≪", "gg": "≫", "angle": "∠", "{": "{", "}": "}", "%": "%", "_": "_", "#": "#",
    "&": "&", "$": "$", "lbrace": "{", "rbrace": "}", "lvert": "|", "rvert": "|", "lVert": "‖", "rVert": "‖",
}
SPACES = {",": " ", ";": " ", ":": " ", " ": " ", "quad": " ", "qquad": " ", "!": "", "displaystyle": "",
          "textstyle": "", "left": "", "right": "", "big": "", "Big": "", "bigg": "", "Bigg": "", "bigl": "",
          "bigr": "", "Bigl": "", "Bigr": "", "nonumber": "", "limits": "", "nolimits": ""}
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304",
           "overline": "\u0304", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308"}
FONTS = {"mathrm", "operatorname", "mathbf", "boldsymbol", "bm", "mathit", "mathsf", "mathtt", "mathcal", "mathscr",
         "mathfrak"}
TEXT_FONTS = {"text", "textrm", "textbf", "textit", "texttt", "emph", "mbox", "hbox"}
SUPERSCRIPT = dict(zip("0123456789+-−=()nijkTtadeghklmoprsuvwxybc", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱʲᵏᵀᵗᵃᵈᵉᵍʰᵏˡᵐᵒᵖʳˢᵘᵛʷˣʸᵇᶜ"))
SUPERSCRIPT.update({"ᵀ": "ᵀ", "′": "′"})
SUBSCRIPT = dict(zip("0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
BRACKETS = {"pmatrix": "()", "bmatrix": "[]", "Bmatrix": "{}", "vmatrix": "||", "Vmatrix": "‖‖", "matrix": "  ",
            "cases": "{ ", "aligned": "  ", "align": "  ", "align*": "  ", "split": "  ", "array": "  ",
            "gathered": "  "}

# Source spaces mean nothing in math; relations get a space on each side instead.
RELATIONS = set("=<>≤≥≠≈≡∝→⇒⇔↦∈∉≜≔⊂⊆←⇐↔")
_NAME_END = "\x00"  # follows an operator name (`sin`): a space if a letter comes next, else nothing
_PRODUCT = "\x01"  # follows a fraction: `·` if a factor comes next (`1/T·1ᵀx`), else nothing
_TOKEN = re.compile(r"\\([A-Za-z]+\*?|.)|([{}^_&~])|(\s+)|(.)", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)


def latex_to_text(latex: str) -> str:
    """One formula (without its `$` delimiters) as readable Unicode."""
    tokens = list(_TOKEN.finditer(latex))
    text, _ = _sequence(tokens, 0, stop=None)
    text = re.sub(f"{_NAME_END}(?=\\w)", " ", text).replace(_NAME_END, "")  # `\cos m` -> `cos m`, `\cos(x)`
    text = re.sub(f"{_PRODUCT}(?=[\\w(√])", "·", text).replace(_PRODUCT, "")
    return re.sub(r" {2,}", " ", text).replace("( ", "(").strip()


def math_to_text(markdown: str, code: bool = False) -> str:
    """Replace every `$…$` / `$$…$$` in Markdown with its readable text (in backticks when `code`)."""
    def one(match: re.Match[str]) -> str:
        display, inline = match.group(1), match.group(2)
        text = latex_to_text(display if display is not None else inline)
        if code:
            text = f"`{text}`"
        return f"\n\n{text}\n\n" if display is not None else text

    return _MATH.sub(one, markdown)


def _sequence(tokens: list[re.Match[str]], i: int, stop: str | None) -> tuple[str, int]:
    """Convert tokens from `i` until `stop` ('}' or an `\\end`), returning (text, index after)."""
    out: list[str] = []
    while i < len(tokens):
        token = tokens[i]
        command, special, space, char = token.groups()
        if special == "}" and stop == "}":
            return "".join(out), i + 1
        if command == "end" and stop == "end":
            _, i = _group(tokens, i + 1)
            return "".join(out), i
        if special in ("^", "_"):
            arg, i = _argument(tokens, i + 1)
            named = bool(out) and out[-1].endswith(_NAME_END)  # `\log_2 n`: the script joins the name
            if named:
                out[-1] = out[-1][:-1]
            out.append(_script(arg, SUPERSCRIPT if special == "^" else SUBSCRIPT, special) + _NAME_END * named)
            continue
        piece, i = _atom(tokens, i)
        out.append(piece)
    return "".join(out), i


def _atom(tokens: list[re.Match[str]], i: int) -> tuple[str, int]:
    command, special, space, char = tokens[i].groups()
    if space is not None:
        return "", i + 1
    if char is not None:
        return _spaced(char), i + 1
    if special == "{":
        return _sequence(tokens, i + 1, stop="}")
    if special == "&":
        return ", ", i + 1
    if special == "~":
        return " ", i + 1
    if special == "}":
        return "", i + 1
    return _command(command, tokens, i + 1)


def _command(name: str, tokens: list[re.Match[str]], i: int) -> tuple[str, int]:
    if name in SPACES:
        return SPACES[name], i
    if name in GREEK:
        return GREEK[name], i
    if name in SYMBOLS:
        return _spaced(SYMBOLS[name]), i
    if name == "\\":
        return "; ", i
    if name in TEXT_FONTS:
        return _group(tokens, i)  # text keeps its spaces
    if name in FONTS:
        return _argument(tokens, i)
    if name == "mathbb":
        arg, i = _argument(tokens, i)
        return "".join(BLACKBOARD.get(c, c) for c in arg), i
    if name in ACCENTS:
        arg, i = _argument(tokens, i)
        return (arg + ACCENTS[name] if len(arg) == 1 else f"{name}({arg})"), i
    if name in ("frac", "dfrac", "tfrac"):
        top, i = _argument(tokens, i)
        bottom, i = _argument(tokens, i)
        return f"{_wrap(top)}/{_wrap(bottom)}{_PRODUCT}", i
    if name == "sqrt":
        arg, i = _argument(tokens, i)
        return f"√{_wrap(arg)}", i
    if name == "begin":
        env, i = _group(tokens, i)
        if env == "array":
            _, i = _group(tokens, i)  # column spec
        body, i = _sequence(tokens, i, stop="end")
        left, right = BRACKETS.get(env, "  ")
        return f"{left}{body.strip().rstrip(';').strip()}{right}".strip(), i
    return name + _NAME_END, i  # \softmax, \log, \sin, \max … read fine as their names


def _argument(tokens: list[re.Match[str]], i: int) -> tuple[str, int]:
    """The next argument: a `{group}` or one token (spaces skipped)."""
    while i < len(tokens) and tokens[i].group(3) is not None:
        i += 1
    if i >= len(tokens):
        return "", i
    return _atom(tokens, i)


def _group(tokens: list[re.Match[str]], i: int) -> tuple[str, int]:
    """The raw text of a `{…}` group (environment names), without converting it."""
    if i < len(tokens) and tokens[i].group(2) == "{":
        j = i + 1
        while j < len(tokens) and tokens[j].group(2) != "}":
            j += 1
        return "".join(t.group(0) for t in tokens[i + 1:j]), j + 1
    return "", i


def _spaced(symbol: str) -> str:
    return f" {symbol} " if symbol in RELATIONS else symbol


def _script(arg: str, table: dict[str, str], mark: str) -> str:
    arg = arg.replace(" ", "").replace(_NAME_END, "")
    if arg and all(c in table for c in arg):
        return "".join(table[c] for c in arg)
    return f"{mark}{_wrap(arg)}"


def _wrap(text: str) -> str:
    text = text.strip().rstrip(_PRODUCT)
    if len(text) <= 1 or re.fullmatch(r"[\w.′ᵀ√\x00]+", text) or _enclosed(text):
        return text
    return f"({text})"


def _enclosed(text: str) -> bool:
    """`(a, b)` is one parenthesised group; `(a)+(b)` is not."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and position < len(text) - 1:
            return False
    return True
