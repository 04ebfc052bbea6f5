"""The computation graph as a picture (s2sgrad/graph.py).

The DOT text is parsed (pydot) and its nodes, edges, clusters and labels
checked against the lecture notes' circuit diagrams; it is rendered where
Graphviz's ``dot`` program is installed.
"""
import html
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import s2sgrad
from tests import golden_functions as gf

pydot = pytest.importorskip("pydot")
# pydot's parser uses pyparsing names that pyparsing 3 deprecates (not ours)
pytestmark = pytest.mark.filterwarnings("ignore:'[a-zA-Z]+' deprecated - use")

EXAMPLES = Path(__file__).parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import seed_f_xyz  # noqa: E402
import seed_norm_wx  # noqa: E402
import seed_sigmoid_neuron  # noqa: E402

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def _text(label):
    """A DOT label as plain text (HTML-like labels: tags removed, lines kept)."""
    label = (label or "").strip()
    if label.startswith("<") and label.endswith(">"):
        label = re.sub(r"<br\s*/?>", "\n", label[1:-1])
        label = html.unescape(re.sub(r"<[^>]+>", "", label))
    elif label.startswith('"'):
        label = label[1:-1].replace('\\"', '"').replace("\\n", "\n")
    return label


def parse(dot):
    """(nodes {id: label}, edges [(src, dst, label)], clusters {label: [node ids]})."""
    (g,) = pydot.graph_from_dot_data(dot)
    nodes, edges, clusters = {}, [], {}

    def walk(sub, owner):
        for n in sub.get_nodes():
            name = n.get_name()
            if name in ("node", "edge", "graph"):
                continue
            label = _text(n.get("label"))
            if label or name not in nodes:       # (a bare mention, e.g. in a rank group)
                nodes[name] = label
            for c in owner:
                clusters[c].append(name)
        for e in sub.get_edges():
            edges.append((e.get_source(), e.get_destination(), _text(e.get("label"))))
        for s in sub.get_subgraphs():
            if not s.get_name().startswith("cluster"):
                walk(s, owner)                   # a rank group, not a cluster
                continue
            label = _text(s.get("label"))
            clusters.setdefault(label, [])
            walk(s, owner + [label])
    walk(g, [])
    return nodes, edges, clusters


def edge_texts(edges):
    return [label for _, _, label in edges]


def test_f_xyz_circuit_values_and_gradients():
    """f = (x + y) z at (-2, 5, -4): q = 3, f = -12; gradients -4, -4, 3."""
    g = s2sgrad.graph(seed_f_xyz.f)(-2.0, 5.0, -4.0)
    nodes, edges, clusters = parse(g.dot)
    ops = sorted(lbl for lbl in nodes.values() if lbl in ("+", "*"))
    assert ops == ["*", "+"]
    by_src = {}
    for s, d, label in edges:
        by_src.setdefault(nodes.get(s), []).append((nodes.get(d), label))
    assert by_src["x"] == [("+", "x = -2\n∂f/∂x = -4")]
    assert by_src["y"] == [("+", "y = 5\n∂f/∂y = -4")]
    assert by_src["z"] == [("*", "z = -4\n∂f/∂z = 3")]
    assert by_src["+"] == [("*", "q = 3\n∂f/∂q = -4")]
    assert by_src["*"] == [("f", "f = -12\n∂f/∂f = 1")]
    assert clusters == {}
    # the same through args= and keyword arguments
    assert s2sgrad.graph(seed_f_xyz.f, args=(-2.0, 5.0, -4.0)).dot == g.dot
    assert s2sgrad.graph(seed_f_xyz.f)(x=-2.0, y=5.0, z=-4.0).dot == g.dot
    assert s2sgrad.graph(seed_f_xyz.f, args={"x": -2.0, "y": 5.0, "z": -4.0}).dot == g.dot


def test_structure_only_without_arguments():
    nodes, edges, _ = parse(s2sgrad.graph(seed_f_xyz.f).dot)
    assert sorted(edge_texts(edges)) == ["f", "q", "x", "y", "z"]
    assert not any("=" in t for t in edge_texts(edges))


def test_sigmoid_neuron_gradients():
    w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])
    nodes, edges, _ = parse(s2sgrad.graph(seed_sigmoid_neuron.neuron)(w, x).dot)
    texts = edge_texts(edges)
    assert "dot = 1\n∂neuron/∂dot = 0.1966" in texts
    assert "w = [2, -3, -3]\n∂neuron/∂w = [-0.1966, -0.3932, 0.1966]" in texts
    assert "x = [-1, -2]\n∂neuron/∂x = [0.3932, -0.5898]" in texts
    assert "neuron = 0.7311\n∂neuron/∂neuron = 1" in texts
    labels = set(nodes.values())
    assert {"·[0]", "·[1]", "·[2]", "exp", "1.0 + ·", "1.0 / ·", "-"} <= labels


def test_norm_wx_matrices():
    W, x = np.array([[0.1, 0.5], [-0.3, 0.8]]), np.array([0.2, 0.4])
    _, edges, _ = parse(s2sgrad.graph(seed_norm_wx.f)(W, x).dot)
    texts = edge_texts(edges)
    assert "W = [[0.1, 0.5]\n[-0.3, 0.8]]\n∂f/∂W = [[0.088, 0.176]\n[0.104, 0.208]]" in texts
    assert "q = [0.22, 0.26]\n∂f/∂q = [0.44, 0.52]" in texts
    assert "x = [0.2, 0.4]\n∂f/∂x = [-0.112, 0.636]" in texts


def test_loops_are_clusters_not_unrolled():
    args = (np.eye(2) * 0.5, np.ones((2, 3)), np.ones((7, 3)), np.zeros(2))
    nodes, edges, clusters = parse(s2sgrad.graph(gf.rnn)(*args).dot)
    (loop,) = [c for c in clusters if c.startswith("for t in range(xs.shape[0])")]
    inside = {nodes[n] for n in clusters[loop]}
    assert {"for t", "@", "+", "tanh", "·[·]"} <= inside
    assert list(nodes.values()).count("tanh") == 1          # 7 iterations, one node
    # values flowing in and out of the loop are annotated; values inside are not
    texts = edge_texts(edges)
    assert any(t.startswith("Wh = [[0.5, 0]") and "∂rnn/∂Wh" in t for t in texts)
    assert any(t.startswith("h_1 = [") for t in texts)                   # the loop's result
    assert "_t4" in texts                                    # a value inside the body
    head = [n for n in clusters[loop] if nodes[n] == "for t"][0]
    assert any(d == head and label == "h_1" for _, d, label in edges)   # the next iteration


def test_branches_are_clusters_with_the_taken_arm():
    x = np.array([1.0, -0.5])
    dot = s2sgrad.graph(gf.relu_branch)(x).dot
    nodes, edges, clusters = parse(dot)
    (cond,) = [c for c in clusters if c.startswith("if np.sum(x) > 0")]
    assert "then" in clusters and "else (not taken)" in clusters
    assert {nodes[n] for n in clusters["then"]} >= {"· * 2.0"}
    assert {nodes[n] for n in clusters["else (not taken)"]} >= {"exp"}
    assert "y = [2, -1]\n∂relu_branch/∂y = [1, -0.5]" in edge_texts(edges)
    other = s2sgrad.graph(gf.relu_branch)(-x).dot
    assert "then (not taken)" in parse(other)[2]


def test_backward_program():
    g = s2sgrad.graph(seed_f_xyz.f, backward=True, args=(-2.0, 5.0, -4.0))
    nodes, edges, _ = parse(g.dot)
    texts = edge_texts(edges)
    assert {"x_bar = -4", "y_bar = -4", "z_bar = 3", "q_bar = -4", "seed = 1"} <= set(texts)
    assert {"x_bar", "y_bar", "z_bar"} <= set(nodes.values())
    # graph(grad(f)) draws the backward program of f for grad's wrt
    g2 = s2sgrad.graph(s2sgrad.grad(seed_f_xyz.f, wrt=(0, 1, 2)), backward=True)
    assert "x_bar" in g2.dot and "z_bar" in g2.dot
    with pytest.raises(s2sgrad.OutputError, match="scalar"):
        s2sgrad.graph(lambda x: (x, x * 2), backward=True)


def test_vector_outputs_show_values_only():
    nodes, edges, _ = parse(s2sgrad.graph(lambda x: (np.sin(x), x * 2))(np.zeros(2)).dot)
    texts = edge_texts(edges)
    assert "f[0] = [0, 0]" in texts and "f[1] = [0, 0]" in texts
    assert not any("∂" in t for t in texts)


def test_deterministic():
    a = s2sgrad.graph(gf.rnn)(np.eye(2), np.ones((2, 3)), np.ones((2, 3)), np.zeros(2)).dot
    b = s2sgrad.graph(gf.rnn)(np.eye(2), np.ones((2, 3)), np.ones((2, 3)), np.zeros(2)).dot
    assert a == b


@needs_dot
def test_renders_svg(tmp_path):
    g = s2sgrad.graph(seed_f_xyz.f)(-2.0, 5.0, -4.0)
    svg = g.svg()
    text = html.unescape(svg)
    assert "<svg" in svg and "q = 3" in text and "∂f/∂q = -4" in text
    assert g._repr_svg_() == svg
    g.save(tmp_path / "f.svg")
    g.save(tmp_path / "f.dot")
    assert (tmp_path / "f.svg").read_text() == svg
    assert (tmp_path / "f.dot").read_text() == g.dot


def test_without_graphviz(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    g = s2sgrad.graph(seed_f_xyz.f)
    assert g._repr_svg_() is None
    with pytest.raises(RuntimeError, match="Graphviz's 'dot' program"):
        g.svg()


def test_examples_pictures_are_current():
    """examples/graphs/*.dot are what graph() draws today (regenerate with
    python examples/draw_graphs.py)."""
    import draw_graphs
    for name, g in draw_graphs.graphs().items():
        assert (EXAMPLES / "graphs" / f"{name}.dot").read_text() == g.dot, name
