"""Make the sample session's slide deck: `deck.pdf` and `logo.svg` next to this file.

The Dutch sample session of `sessions.yaml` ("Gemengde wijken, segregatie en
inclusie") shows its content slides as pages of a PDF, as a facilitator would
show the deck she exported from her presentation program, with poll's
questions between them. This script writes that deck from the session's
texts, so the PDF in the repository can be made again and checked:

    pip install fpdf2
    python examples/gemengde-wijken/make_deck.py

fpdf2 embeds the DejaVu Sans font (Debian's fonts-dejavu-core) for the Dutch
text; the logo is written as SVG with the standard library's ElementTree and
drawn into every page by fpdf2.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).resolve().parent
FONTS = Path("/usr/share/fonts/truetype/dejavu")
ACCENT = (11, 94, 75)  # #0b5e4b, the session theme's accent
INK = (27, 27, 31)
MUTED = (89, 89, 97)

#: The slides: a title and lines (a line starting "- " or "1. " is a list item).
SLIDES: list[tuple[str, list[str]]] = [
    (
        "Leernetwerk Leefbaarheid & Veiligheid",
        [
            "Deelsessie gemengde wijken, segregatie en inclusie",
            "",
            "Dag van de buurt, 28 januari 2021",
        ],
    ),
    (
        "Opzet van de sessie",
        [
            "- Toelichting leernetwerk leefbaarheid en veiligheid",
            "- Toelichting thema Gemengde wijken en ervaring Innovatieprogramma Inclusieve wijken",
            "- Met elkaar en inhoudsexperts duiden/verdiepen vraagstuk",
            "- Inventariseren hoe deelnemers willen leren en doorkijk naar vervolg",
        ],
    ),
    (
        "BZK Programma Leefbaarheid en Veiligheid",
        [
            "Twee sporen:",
            "1. Verkenning handelingsperspectieven in 16 stedelijke vernieuwingsgebieden",
            "2. Verkenning van gebiedsgerichte aanpak voor alle gemeenten, o.a. met het "
            "Leernetwerk en het Kennisplatform Leefbaarheid en Veiligheid, gebiedsprofielen "
            "& agenda's (Movisie, Platform31), de Buurtmakers Academy (LSA) en de Dag van "
            "de buurt op 28 januari",
        ],
    ),
    (
        "Het idee van het leernetwerk",
        [
            "Een netwerk waarin (vertegenwoordigers van) Nederlandse gemeenten, "
            "samenwerkingspartners in wijken en buurten en (actieve) bewoners met en van "
            "elkaar leren en kennis uitwisselen over de gebiedsgerichte aanpak van "
            "vraagstukken op het terrein van leefbaarheid en veiligheid.",
            "",
            "Het leernetwerk is in het bijzonder gericht op alle Nederlandse gemeenten die "
            "te maken hebben met gebieden waar sprake is van een cumulatie van stedelijke "
            "problematiek.",
            "",
            "NB er is geen sprake van één allesomvattend lerend netwerk: er zijn meerdere "
            "landelijke, regionale en lokale leer- en kennisnetwerken.",
        ],
    ),
    (
        "Stap 1: Leeraanbod",
        [
            "Doel: inzicht in bestaande kennis en activiteiten rondom de thema's en "
            "vraagstukken die het leernetwerk leefbaarheid en veiligheid bestrijken.",
            "",
            "- Ophaalronde consortium en uitvraag, circa 100 reacties",
            "- Er zijn veel lerende praktijken, zoals: leergemeenschap, living labs, "
            "community of practice, kenniswerkplaats, etc.",
            "- Eerste aanbod op wijkwijzer.org te vinden (WijkWijzer — platform voor "
            "leefbare en veilige wijken)",
        ],
    ),
    (
        "Stap 2: Leeragenda",
        [
            "Doel: opstelling van een leeragenda op basis van de aanscherping en verrijking "
            "van leer- en kennisvragen vanuit verschillende doelgroepen, en inzicht in de "
            "belangrijkste onderwerpen waar het leernetwerk zich op zou moeten richten.",
            "",
            "- Consultatieronde diverse stakeholders",
            "- Toetsen van de concept-leeragenda en leerbehoefte",
        ],
    ),
    (
        "Lacunes in het leeraanbod",
        [
            "1. Vertrouwen in instituties en in elkaar: werken aan verbinding in de wijk",
            "2. Gemengde wijken: menging, segregatie en inclusie",
            "3. Corporaties en leefbaarheid",
            "4. Integraal preventief signaleren voor een veilige en leefbare wijk",
            "5. Organiseren van slag- en interventiekracht op lange termijn",
        ],
    ),
    (
        "Het debat rond gemengde wijken",
        [
            "- Traditie van preventief wijkenbeleid door voorkomen van buurtverval",
            "- Negatieve buurteffecten tegengaan door grootschalige fysieke herstructurering",
            "- Menging goed voor de wijk, maar ook voor de mens?",
            "- Nieuwe ontwikkelingen in de wijk",
        ],
    ),
    (
        "Leervragen gemengde wijken, segregatie en inclusie",
        [
            "Wat betekent een gemengde wijk anno 2020 in relatie tot superdiversiteit, "
            "inclusiviteit en toegankelijkheid?",
            "- Hoe geef je sociale menging in wijken vorm? Welke doelgroepen en kenmerken "
            "zijn daarbij van belang en hoe geef je dit vorm op buurt- en complexniveau?",
            "- Hoe kun je sociale stijgers in de wijk behouden?",
            "- Hoe kunnen corporaties en gemeenten via huur- en toewijzingsbeleid sturen op "
            "menging (bv. Rotterdamwet)?",
            "- Welke mogelijkheden zijn er om via middenhuur de leefbaarheid in wijken te "
            "versterken?",
            "- Hoe kunnen we 'waterbedeffecten' tegengaan?",
            "- Hoe veranker je beleidsambities in prestatieafspraken en contingenten?",
        ],
    ),
    (
        "Voorbeeld Innovatieprogramma Inclusieve wijken",
        [
            "Ervaringen van Platform31:",
            "- Het vraagstuk inclusieve wijken",
            "- Wijze van leren met elkaar",
        ],
    ),
    (
        "Vervolg",
        [
            "- Uitwerken leeraanbod rond thema gemengde wijken, segregatie en inclusie",
            "- Toegankelijk maken bestaand aanbod via wijkwijzer.org",
        ],
    ),
]


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def write_logo(path: Path) -> None:
    """A simple mark: three houses of different heights on a street line, and a name."""
    svg = ElementTree.Element(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        width="430",
        height="120",
        viewBox="0 0 430 120",
    )
    accent = hex_colour(ACCENT)
    for x, height in ((10, 50), (46, 70), (82, 58)):
        top = 100 - height
        points = f"{x},{top + 16} {x + 16},{top} {x + 32},{top + 16} {x + 32},100 {x},100"
        ElementTree.SubElement(svg, "polygon", points=points, fill=accent)
    ElementTree.SubElement(
        svg, "rect", x="4", y="100", width="118", height="6", fill=hex_colour(INK)
    )
    for y, text, size in ((58, "Leernetwerk", "30"), (92, "Leefbaarheid & Veiligheid", "19")):
        label = ElementTree.SubElement(
            svg,
            "text",
            x="132",
            y=str(y),
            fill=hex_colour(INK),
            style=f"font-family: DejaVu Sans, sans-serif; font-size: {size}px; font-weight: bold",
        )
        label.text = text
    ElementTree.indent(svg)
    ElementTree.ElementTree(svg).write(path, encoding="utf-8", xml_declaration=True)


class Deck(FPDF):
    def __init__(self, logo: Path) -> None:
        # 16:9 at 13.333 × 7.5 inches, the size presentation programs export.
        super().__init__(orientation="landscape", unit="mm", format=(190.5, 338.67))
        self.logo = logo
        self.set_auto_page_break(False)
        self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_title("Gemengde wijken, segregatie en inclusie")
        self.set_author("Leernetwerk Leefbaarheid & Veiligheid")
        # A fixed date: the same texts give the same file, so the deck's hash holds.
        self.set_creation_date(datetime(2021, 1, 28, tzinfo=UTC))

    def slide(self, number: int, title: str, lines: list[str]) -> None:
        self.add_page()
        self.set_fill_color(*ACCENT)
        self.rect(0, 0, self.w, 6, style="F")
        first = number == 1
        self.set_text_color(*ACCENT)
        self.set_font("DejaVu", "B", 40 if first else 32)
        self.set_xy(20, 60 if first else 22)
        self.multi_cell(self.w - 40, 16 if first else 13, title, align="L")
        self.ln(6)
        self.set_text_color(*INK)
        size = 24 if first else 20 if sum(len(line) for line in lines) < 500 else 17
        self.set_font("DejaVu", "", size)
        height = size * 0.55
        for line in lines:
            self.set_x(20)
            if not line:
                self.ln(height * 0.5)
                continue
            marker, text = "", line
            if line.startswith("- "):
                marker, text = "•", line[2:]
            elif line[:1].isdigit() and line[1:3] == ". ":
                marker, text = line[:2], line[3:]
            if marker:
                self.cell(10, height, marker)
                self.multi_cell(self.w - 50, height, text, align="L")
            else:
                self.multi_cell(self.w - 40, height, text, align="L")
            self.ln(height * 0.25)
        # Footer and logo last: a page's text (a screen reader's alternative for
        # it in poll) then starts with the slide's title.
        self.set_text_color(*MUTED)
        self.set_font("DejaVu", "", 12)
        self.set_xy(20, self.h - 20)
        self.cell(100, 8, f"Dag van de buurt 2021 · {number}/{len(SLIDES)}")
        self.image(str(self.logo), x=self.w - 72, y=self.h - 30, w=60)


def main() -> None:
    logo = HERE / "logo.svg"
    write_logo(logo)
    deck = Deck(logo)
    for number, (title, lines) in enumerate(SLIDES, 1):
        deck.slide(number, title, lines)
    deck.output(str(HERE / "deck.pdf"))
    print(f"wrote {HERE / 'deck.pdf'} ({len(SLIDES)} pages) and {logo}")


if __name__ == "__main__":
    main()
