"""The pieces every benchmark's bar chart shares: the frame with its title, horizontal grid
lines with labels, a dashed reference line, the legend, and writing the file."""


def frame(width, height, left, title):
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
            f'<text x="{left}" y="20" font-size="14">{title}</text>']


def grid(out, values, y, left, width, label=str):
    """A light line and its label at each value; y maps a value to its pixel row."""
    for v in values:
        out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{label(v)}</text>')


def reference_line(out, value, y, left, width):
    out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#000" stroke-dasharray="4 3"/>')


def legend(out, items, left, baseline, spacing):
    """items: (label, color); baseline: the pixel row the labels sit on."""
    for j, (label, color) in enumerate(items):
        out.append(f'<rect x="{left + j * spacing}" y="{baseline - 9}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{left + j * spacing + 14}" y="{baseline}">{label}</text>')


def save(out, path):
    with open(path, "w") as f:
        f.write("\n".join(out + ["</svg>"]) + "\n")
