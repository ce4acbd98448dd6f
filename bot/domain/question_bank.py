"""The mentor's question bank: our own questions in Swedish and English, kept as data.

Two families, as in the handbook's part on conversation technique: open,
exploring questions that help the adept reflect, and challenging questions for
when the adept is stuck in a negative view (facts or beliefs, causes,
consequences and the worst case, expectations, likelihood, a positive picture).

The texts are deliberately not in the gettext catalogs: they are content, not
interface, and are chosen and recorded by their stable ids (`open.career.1`).
An id must never be reused for a different question, because pairs' histories
refer to it; retire a question by deleting it, never by rewording it into another.
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN = "open"
CHALLENGE = "challenge"
FAMILIES = (OPEN, CHALLENGE)

# "general" holds the all-purpose follow-ups used when an agenda names no theme.
THEMES = (
    "leadership",
    "career",
    "communication",
    "conflict",
    "stress",
    "confidence",
    "learning",
    "goals",
    "networking",
    "balance",
    "change",
    "feedback",
    "general",
)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    family: str
    themes: frozenset[str]
    sv: str
    en: str

    def text(self, language: str) -> str:
        return self.sv if language == "sv" else self.en


def _q(id_: str, themes: str, sv: str, en: str) -> Question:
    family = id_.split(".", 1)[0]
    return Question(id_, family, frozenset(themes.split()), sv, en)


BANK: tuple[Question, ...] = (
    # -- open and exploring ------------------------------------------------------------------
    _q(
        "open.leadership.1",
        "leadership goals",
        "Hur skulle du beskriva den ledare du vill vara om ett år?",
        "How would you describe the leader you want to be a year from now?",
    ),
    _q(
        "open.leadership.2",
        "leadership",
        "Vad gör du redan i dag som hjälper ditt team att lyckas?",
        "What do you already do today that helps your team succeed?",
    ),
    _q(
        "open.leadership.3",
        "leadership confidence",
        "Vilket beslut skjuter du helst upp, och vad gör det så svårt?",
        "Which decision do you tend to put off, and what makes it so hard?",
    ),
    _q(
        "open.leadership.4",
        "leadership communication",
        "Hur märker de du arbetar med vad du tycker är viktigast?",
        "How do the people you work with notice what matters most to you?",
    ),
    _q(
        "open.leadership.5",
        "leadership stress",
        "Vad skulle du kunna lämna över till någon annan, och vad hindrar dig?",
        "What could you hand over to someone else, and what is stopping you?",
    ),
    _q(
        "open.career.1",
        "career balance",
        "Vilka delar av ditt arbete ger dig mest energi just nu?",
        "Which parts of your work give you the most energy right now?",
    ),
    _q(
        "open.career.2",
        "career goals",
        "Hur ser nästa steg i din yrkesbana ut för dig, och varför just det steget?",
        "What does the next step in your career look like to you, and why that step?",
    ),
    _q(
        "open.career.3",
        "career communication",
        "Inför ett lönesamtal: vad vill du att din chef ska förstå om det du bidrar med?",
        "Ahead of a salary talk: what do you want your manager to understand about "
        "what you contribute?",
    ),
    _q(
        "open.career.4",
        "career learning",
        "Vilka erfarenheter saknar du för rollen du siktar på, och hur kan du skaffa dem?",
        "Which experiences are you missing for the role you are aiming for, and how "
        "could you gain them?",
    ),
    _q(
        "open.career.5",
        "career",
        "Om du tänker på dina bästa perioder på jobbet – vad hade de gemensamt?",
        "Thinking of your best periods at work, what did they have in common?",
    ),
    _q(
        "open.communication.1",
        "communication",
        "Hur brukar du förbereda dig inför ett samtal som betyder mycket för dig?",
        "How do you usually prepare for a conversation that matters a lot to you?",
    ),
    _q(
        "open.communication.2",
        "communication conflict",
        "Vad tror du att den andra personen hörde när du sa det?",
        "What do you think the other person heard when you said that?",
    ),
    _q(
        "open.communication.3",
        "communication confidence",
        "I vilka sammanhang tar du gärna ordet, och i vilka håller du dig tillbaka?",
        "In which settings do you happily speak up, and in which do you hold back?",
    ),
    _q(
        "open.communication.4",
        "communication feedback",
        "Hur vet du om ditt budskap gick fram så som du ville?",
        "How do you know whether your message landed the way you intended?",
    ),
    _q(
        "open.conflict.1",
        "conflict",
        "Hur ser läget ut från den andra personens håll, tror du?",
        "How do you think things look from the other person's side?",
    ),
    _q(
        "open.conflict.2",
        "conflict communication",
        "Vad är det ni egentligen är oense om – själva sakfrågan eller något annat?",
        "What do you actually disagree about – the issue itself or something else?",
    ),
    _q(
        "open.conflict.3",
        "conflict goals",
        "Vad skulle behöva hända för att ni båda ska kunna gå vidare?",
        "What would need to happen for both of you to be able to move on?",
    ),
    _q(
        "open.conflict.4",
        "conflict stress",
        "Vilken del av konflikten kan du själv påverka?",
        "Which part of the conflict can you influence yourself?",
    ),
    _q(
        "open.stress.1",
        "stress",
        "Hur ser en vanlig vecka ut för dig just nu, och vad tar mest kraft?",
        "What does an ordinary week look like for you right now, and what drains you most?",
    ),
    _q(
        "open.stress.2",
        "stress balance",
        "Vad skulle du sluta med om du fick välja helt fritt?",
        "What would you stop doing if you were completely free to choose?",
    ),
    _q(
        "open.stress.3",
        "stress balance",
        "Vilka tecken säger dig att det börjar bli för mycket?",
        "Which signs tell you that it is starting to get too much?",
    ),
    _q(
        "open.stress.4",
        "stress communication leadership",
        "Vem sätter egentligen prioriteringarna i ditt arbete, och hur stämmer ni av dem?",
        "Who actually sets the priorities in your work, and how do you agree on them?",
    ),
    _q(
        "open.confidence.1",
        "confidence",
        "När kände du dig senast riktigt trygg i din roll, och vad bidrog till det?",
        "When did you last feel really secure in your role, and what contributed to it?",
    ),
    _q(
        "open.confidence.2",
        "confidence feedback",
        "Vilka styrkor skulle dina kollegor säga att du har?",
        "Which strengths would your colleagues say you have?",
    ),
    _q(
        "open.confidence.3",
        "confidence goals",
        "Vad skulle du våga göra om du visste att det inte kunde misslyckas?",
        "What would you dare to do if you knew it could not fail?",
    ),
    _q(
        "open.confidence.4",
        "confidence stress",
        "Hur pratar du med dig själv när något har gått dåligt?",
        "How do you talk to yourself when something has gone badly?",
    ),
    _q(
        "open.learning.1",
        "learning general",
        "Vad har du lärt dig sedan vi sågs senast?",
        "What have you learned since we last met?",
    ),
    _q(
        "open.learning.2",
        "learning",
        "Hur lär du dig bäst – genom att läsa, pröva själv eller prata med andra?",
        "How do you learn best – by reading, by trying things yourself or by talking with others?",
    ),
    _q(
        "open.learning.3",
        "learning goals career",
        "Vilken färdighet skulle göra störst skillnad för dig det närmaste halvåret?",
        "Which skill would make the biggest difference for you over the next six months?",
    ),
    _q(
        "open.learning.4",
        "learning networking",
        "Vem i din närhet kan något du vill lära dig, och hur kan du ta del av det?",
        "Who near you knows something you want to learn, and how could you tap into it?",
    ),
    _q(
        "open.goals.1",
        "goals",
        "Hur kommer du att märka att du har nått ditt mål?",
        "How will you notice that you have reached your goal?",
    ),
    _q(
        "open.goals.2",
        "goals",
        "Vilket litet steg mot målet kan du ta redan den här veckan?",
        "Which small step towards your goal could you take this very week?",
    ),
    _q(
        "open.goals.3",
        "goals change",
        "Vad har hänt med ditt mål sedan sist – ser det likadant ut nu?",
        "What has happened to your goal since last time – does it still look the same?",
    ),
    _q(
        "open.goals.4",
        "goals",
        "Varför är just det här målet viktigt för dig?",
        "Why does this particular goal matter to you?",
    ),
    _q(
        "open.networking.1",
        "networking career",
        "Vilka personer har betytt mest för din utveckling, och hur hittade ni varandra?",
        "Which people have meant the most to your development, and how did you find each other?",
    ),
    _q(
        "open.networking.2",
        "networking",
        "Vem skulle du vilja lära känna i din bransch, och hur kan du ta första kontakten?",
        "Whom would you like to get to know in your field, and how could you make first contact?",
    ),
    _q(
        "open.networking.3",
        "networking confidence",
        "Vad kan du själv erbjuda andra i ditt nätverk?",
        "What can you offer others in your network?",
    ),
    _q(
        "open.balance.1",
        "balance stress",
        "Vad ger dig återhämtning, och hur ofta får du det just nu?",
        "What helps you recover, and how often do you get it at the moment?",
    ),
    _q(
        "open.balance.2",
        "balance",
        "Var går gränsen mellan jobb och fritid för dig, och vem flyttar den?",
        "Where is the line between work and free time for you, and who moves it?",
    ),
    _q(
        "open.balance.3",
        "balance goals",
        "Hur skulle en bra vecka se ut om både jobbet och livet utanför fick plats?",
        "What would a good week look like if both work and life outside it had room?",
    ),
    _q(
        "open.change.1",
        "change",
        "Vad i förändringen ser du fram emot, och vad oroar dig?",
        "What in the change are you looking forward to, and what worries you?",
    ),
    _q(
        "open.change.2",
        "change confidence",
        "Vad behöver du för att känna dig trygg mitt i förändringen?",
        "What do you need to feel steady in the middle of the change?",
    ),
    _q(
        "open.change.3",
        "change learning",
        "Hur har du klarat stora förändringar tidigare, och vad hjälpte dig då?",
        "How have you handled big changes before, and what helped you then?",
    ),
    _q(
        "open.feedback.1",
        "feedback",
        "Vilken återkoppling har du fått nyligen som stannade kvar hos dig, och varför?",
        "Which recent feedback has stayed with you, and why?",
    ),
    _q(
        "open.feedback.2",
        "feedback communication",
        "Hur ber du om återkoppling, och vem frågar du?",
        "How do you ask for feedback, and whom do you ask?",
    ),
    _q(
        "open.feedback.3",
        "feedback general",
        "Vad skulle du vilja ha mer av från mig som mentor?",
        "What would you like more of from me as your mentor?",
    ),
    _q(
        "open.feedback.4",
        "feedback confidence",
        "Hur brukar du reagera i första stunden när du får kritik?",
        "How do you usually react in the first moment when you receive criticism?",
    ),
    _q(
        "open.general.1",
        "general",
        "Berätta mer – vad hände sedan?",
        "Tell me more – what happened next?",
    ),
    _q(
        "open.general.2",
        "general",
        "Vad var det viktigaste för dig i det du just berättade?",
        "What mattered most to you in what you just told me?",
    ),
    _q(
        "open.general.3",
        "general",
        "Vilka vägar framåt har du redan funderat på, och vilka har du inte prövat?",
        "Which ways forward have you already considered, and which have you not tried?",
    ),
    _q(
        "open.general.4",
        "general",
        "Vad styrde ditt val i just den stunden?",
        "What guided your choice in that very moment?",
    ),
    _q(
        "open.general.5",
        "general",
        "Vilka känslor väckte det här hos dig?",
        "What feelings did this stir up in you?",
    ),
    _q(
        "open.general.6",
        "general learning",
        "Om du fick göra om det – vad skulle du behålla och vad skulle du ändra?",
        "If you could do it again, what would you keep and what would you change?",
    ),
    _q(
        "open.general.7",
        "general goals",
        "Vad behöver du från mig i dag för att komma vidare?",
        "What do you need from me today to move forward?",
    ),
    # -- constructive and challenging, for a stuck or negative view ---------------------------
    _q(
        "challenge.confidence.1",
        "confidence conflict career",
        "Vad vet du säkert här, och vad är din tolkning av det?",
        "What do you know for certain here, and what is your interpretation of it?",
    ),
    _q(
        "challenge.conflict.1",
        "conflict feedback confidence",
        "Vad har du för belägg för att de ser på dig på det sättet?",
        "What evidence do you have that they see you that way?",
    ),
    _q(
        "challenge.career.1",
        "career conflict change",
        "Är det verkligen orsaken, eller kan något annat också spela in?",
        "Is that really the cause, or could something else be playing a part too?",
    ),
    _q(
        "challenge.stress.1",
        "stress leadership",
        "Vilken del av problemet hänger på dig, och vilken del på omständigheterna?",
        "Which part of the problem is down to you, and which part to the circumstances?",
    ),
    _q(
        "challenge.stress.2",
        "stress change career",
        "Om det värsta inträffar – hur skulle det faktiskt märkas i din vardag?",
        "If the worst does happen, how would it actually show in your everyday life?",
    ),
    _q(
        "challenge.change.1",
        "change confidence",
        "Hur skulle du ta dig igenom det om det sämsta utfallet blev verklighet?",
        "How would you get through it if the worst outcome came true?",
    ),
    _q(
        "challenge.goals.1",
        "goals career",
        "Är dina förväntningar rimliga utifrån var du står i dag?",
        "Are your expectations reasonable given where you stand today?",
    ),
    _q(
        "challenge.leadership.1",
        "leadership balance stress",
        "Vems förväntningar försöker du leva upp till – dina egna eller någon annans?",
        "Whose expectations are you trying to live up to – your own or someone else's?",
    ),
    _q(
        "challenge.learning.1",
        "learning confidence",
        "Hur lång tid är det rimligt att det tar att bli bra på det här?",
        "How long is it reasonable for it to take to get good at this?",
    ),
    _q(
        "challenge.confidence.2",
        "confidence career change",
        "På en skala från 1 till 10: hur troligt är det egentligen att det går så illa?",
        "On a scale from 1 to 10, how likely is it really that it goes that badly?",
    ),
    _q(
        "challenge.feedback.1",
        "feedback career change",
        "Om det du är rädd för ändå skulle hända – vad skulle det betyda för dig om ett år?",
        "If what you fear did happen, what would it mean for you a year from now?",
    ),
    _q(
        "challenge.goals.2",
        "goals confidence",
        "Föreställ dig att det har gått riktigt bra. Hur ser det ut, och vad gjorde du "
        "för att komma dit?",
        "Picture that it has gone really well. What does it look like, and what did you "
        "do to get there?",
    ),
    _q(
        "challenge.networking.1",
        "networking change",
        "Vem känner du som har tagit sig igenom något liknande, och hur gjorde de?",
        "Whom do you know who has come through something similar, and how did they do it?",
    ),
    _q(
        "challenge.balance.1",
        "balance stress confidence",
        "Vad skulle du säga till en kollega som beskrev precis samma läge?",
        "What would you tell a colleague who described exactly the same situation?",
    ),
    _q(
        "challenge.communication.1",
        "communication conflict feedback",
        "Finns det ett annat sätt att förstå det som sades?",
        "Is there another way to understand what was said?",
    ),
    _q(
        "challenge.goals.3",
        "goals balance",
        "Vad blir annorlunda i ditt liv när du har kommit dit du vill?",
        "What will be different in your life once you have got where you want to be?",
    ),
    _q(
        "challenge.change.2",
        "change goals",
        "Vad skulle behöva vara sant för att det här ska gå bra?",
        "What would need to be true for this to go well?",
    ),
    _q(
        "challenge.leadership.2",
        "leadership conflict",
        "Vilka slutsatser drar du, och håller de om du granskar dem en gång till?",
        "Which conclusions are you drawing, and do they hold if you examine them once more?",
    ),
    _q(
        "challenge.stress.3",
        "stress career",
        "Vad står faktiskt på spel här, och vad är oron som talar?",
        "What is actually at stake here, and what is the worry talking?",
    ),
)

BY_ID: dict[str, Question] = {question.id: question for question in BANK}
