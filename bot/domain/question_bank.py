"""The mentor's question bank: our own questions in Swedish and English, kept as data.

Two families, as in the handbook's part on conversation technique: open,
exploring questions that help the adept reflect, and challenging questions for
when the adept is stuck in a negative view (facts or beliefs, causes,
consequences and the worst case, expectations, likelihood, a positive picture).
Every question is open in both languages: none can be answered with a yes or a no.

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

# "general" holds the all-purpose questions used when an agenda names no theme; "intro",
# "closing" and "relationship" are for the intro meeting, the closing and the
# mentorship itself.
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
    "intro",
    "closing",
    "relationship",
    "general",
)
# Follow-ups that only make sense in the middle of a conversation ("what happened
# next?"): never offered for preparing a meeting with nothing on its agenda.
FOLLOW_UPS = frozenset(
    {
        "open.general.1",
        "open.general.2",
        "open.general.3",
        "open.general.4",
        "open.general.5",
        "open.general.6",
    }
)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    family: str
    themes: frozenset[str]
    sv: str
    en: str

    @property
    def followup(self) -> bool:
        return self.id in FOLLOW_UPS

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
    # -- the intro meeting, the closing, the mentorship itself, and more of each theme ------
    _q(
        "open.intro.1",
        "intro relationship",
        "Vad fick dig att vilja ha en mentor just nu?",
        "What made you want a mentor right now?",
    ),
    _q(
        "open.intro.2",
        "intro goals",
        "Vad skulle göra det här mentorskapet värt tiden för dig om ett år?",
        "What would make this mentorship worth your time a year from now?",
    ),
    _q(
        "open.intro.3",
        "intro balance",
        "Vilka delar av ditt liv utanför jobbet vill du berätta om, så att jag förstår dig bättre?",
        "Which parts of your life outside work would you like to tell me about, so that I "
        "understand you better?",
    ),
    _q(
        "open.intro.4",
        "intro relationship",
        "Hur vill du att vi ska arbeta tillsammans – vad passar dig bäst?",
        "How would you like us to work together – what suits you best?",
    ),
    _q(
        "open.intro.5",
        "intro goals",
        "Vilka områden vill du helst ha hjälp med, och varför just de?",
        "Which areas would you most like help with, and why those?",
    ),
    _q(
        "open.intro.6",
        "intro relationship confidence",
        "Vad behöver du från mig för att kunna vara öppen här?",
        "What do you need from me to feel free to be open here?",
    ),
    _q(
        "open.intro.7",
        "intro career",
        "Hur har din väg sett ut hittills, och vilka vägval minns du bäst?",
        "What has your path looked like so far, and which turning points do you remember best?",
    ),
    _q(
        "open.intro.8",
        "intro relationship",
        "Vilka förväntningar har du på mig som mentor, och vilka har du på dig själv?",
        "What do you expect of me as a mentor, and what do you expect of yourself?",
    ),
    _q(
        "open.closing.1",
        "closing",
        "När du ser tillbaka på vårt första möte – vad har förändrats sedan dess?",
        "Looking back at our first meeting, what has changed since then?",
    ),
    _q(
        "open.closing.2",
        "closing goals",
        "Vilket av dina mål har betytt mest för dig, och hur gick det med det?",
        "Which of your goals has meant most to you, and how did it go?",
    ),
    _q(
        "open.closing.3",
        "closing learning",
        "Vad tar du med dig från mentorskapet som du vill fortsätta öva på?",
        "What are you taking from the mentorship that you want to keep practising?",
    ),
    _q(
        "open.closing.4",
        "closing relationship feedback",
        "Vad i vårt sätt att arbeta tillsammans hjälpte dig mest?",
        "What in the way we worked together helped you most?",
    ),
    _q(
        "open.closing.5",
        "closing feedback",
        "Vad kunde jag ha gjort annorlunda som mentor?",
        "What could I have done differently as your mentor?",
    ),
    _q(
        "open.closing.6",
        "closing goals career",
        "Vart vill du gå härnäst, och vem kan stötta dig där?",
        "Where do you want to go next, and who can support you there?",
    ),
    _q(
        "open.closing.7",
        "closing confidence",
        "Vilken styrka hos dig själv har du upptäckt under den här tiden?",
        "Which strength of your own have you discovered during this time?",
    ),
    _q(
        "open.closing.8",
        "closing networking",
        "Hur vill du att vi håller kontakten, om vi båda vill det?",
        "How would you like us to keep in touch, if we both want to?",
    ),
    _q(
        "open.relationship.1",
        "relationship feedback",
        "Hur upplever du våra möten just nu – vad fungerar och vad skaver?",
        "How do our meetings feel to you right now – what works and what chafes?",
    ),
    _q(
        "open.relationship.2",
        "relationship",
        "Vad skulle göra våra samtal ännu mer användbara för dig?",
        "What would make our conversations even more useful to you?",
    ),
    _q(
        "open.relationship.3",
        "relationship communication",
        "När kände du dig senast riktigt lyssnad på här, och vad gjorde skillnaden?",
        "When did you last feel really listened to here, and what made the difference?",
    ),
    _q(
        "open.relationship.4",
        "relationship communication",
        "Vad har du låtit bli att säga till mig, och vad skulle hjälpa dig att säga det?",
        "What have you held back from saying to me, and what would help you say it?",
    ),
    _q(
        "open.relationship.5",
        "relationship goals",
        "Hur väl håller vi oss till det vi kom överens om i kontraktet?",
        "How well are we keeping to what we agreed in our contract?",
    ),
    _q(
        "open.relationship.6",
        "relationship",
        "Hur vill du att jag utmanar dig – mer, mindre eller på ett annat sätt?",
        "How would you like me to challenge you – more, less or in another way?",
    ),
    _q(
        "open.relationship.7",
        "relationship balance",
        "Hur passar tempot och tiderna för våra möten in i ditt liv just nu?",
        "How do the pace and timing of our meetings fit your life right now?",
    ),
    _q(
        "open.relationship.8",
        "relationship feedback",
        "Vilken återkoppling till mig har du burit på ett tag?",
        "What feedback for me have you been carrying for a while?",
    ),
    _q(
        "open.general.8",
        "general",
        "Vad har hänt sedan vi sågs sist som du vill berätta om?",
        "What has happened since we last met that you would like to tell me about?",
    ),
    _q(
        "open.general.9",
        "general",
        "Vad tar mest av dina tankar just nu?",
        "What is taking up most of your thoughts right now?",
    ),
    _q(
        "open.general.10",
        "general",
        "Vad skulle göra dagens möte riktigt bra för dig?",
        "What would make today's meeting really good for you?",
    ),
    _q(
        "open.general.11",
        "general goals",
        "Vad har du gjort av det vi kom överens om senast, och hur gick det?",
        "What have you done with what we agreed last time, and how did it go?",
    ),
    _q(
        "open.general.12",
        "general",
        "Vilken fråga önskar du att jag ställde till dig i dag?",
        "Which question do you wish I would ask you today?",
    ),
    _q(
        "open.networking.4",
        "networking career",
        "Vilka personer skulle du vilja lära känna det kommande året, och varför?",
        "Which people would you like to get to know in the coming year, and why?",
    ),
    _q(
        "open.networking.5",
        "networking confidence",
        "Hur brukar du ta första kontakten med någon du inte känner?",
        "How do you usually make first contact with someone you don't know?",
    ),
    _q(
        "open.networking.6",
        "networking",
        "Vad kan du ge tillbaka till ditt nätverk?",
        "What can you give back to your network?",
    ),
    _q(
        "open.learning.5",
        "learning goals",
        "Vad vill du kunna om ett år som du inte kan i dag?",
        "What do you want to be able to do in a year that you cannot do today?",
    ),
    _q(
        "open.learning.6",
        "learning",
        "Hur lär du dig bäst – genom att läsa, göra eller prata med andra?",
        "How do you learn best – by reading, by doing or by talking with others?",
    ),
    _q(
        "open.learning.7",
        "learning feedback",
        "Vilket misstag har lärt dig mest, och vad lärde det dig?",
        "Which mistake has taught you most, and what did it teach you?",
    ),
    _q(
        "open.leadership.6",
        "leadership feedback",
        "Hur skulle ditt team beskriva dig när du inte hör på?",
        "How would your team describe you when you are out of earshot?",
    ),
    _q(
        "open.leadership.7",
        "leadership stress",
        "Vad lämnar du ifrån dig till andra, och vad håller du kvar själv?",
        "What do you hand over to others, and what do you keep for yourself?",
    ),
    _q(
        "open.balance.4",
        "balance stress",
        "Vad ger dig energi utanför jobbet, och hur mycket plats får det?",
        "What gives you energy outside work, and how much room does it get?",
    ),
    _q(
        "open.balance.5",
        "balance goals",
        "Hur skulle en bra vecka se ut för dig, från måndag till söndag?",
        "What would a good week look like for you, from Monday to Sunday?",
    ),
    _q(
        "open.conflict.5",
        "conflict communication",
        "Vad tror du att den andra personen vill uppnå?",
        "What do you think the other person wants to achieve?",
    ),
    _q(
        "open.conflict.6",
        "conflict",
        "Vilken del av konflikten kan du själv påverka?",
        "Which part of the conflict can you influence yourself?",
    ),
    _q(
        "open.communication.5",
        "communication confidence",
        "Hur förbereder du dig inför ett svårt samtal?",
        "How do you prepare for a difficult conversation?",
    ),
    _q(
        "open.communication.6",
        "communication",
        "Vad vill du att de som lyssnar ska minnas efteråt?",
        "What do you want your listeners to remember afterwards?",
    ),
    _q(
        "open.feedback.5",
        "feedback confidence",
        "Hur tar du emot beröm, och vad gör du med det?",
        "How do you take praise, and what do you do with it?",
    ),
    _q(
        "open.feedback.6",
        "feedback leadership",
        "Hur ger du återkoppling som den andra faktiskt kan använda?",
        "How do you give feedback that the other person can actually use?",
    ),
    _q(
        "open.change.4",
        "change confidence",
        "Vad i förändringen har du själv valt, och vad har bara hänt dig?",
        "What in the change have you chosen yourself, and what has simply happened to you?",
    ),
    _q(
        "open.change.5",
        "change goals",
        "Vilka nya möjligheter kan förändringen öppna för dig?",
        "Which new openings could the change create for you?",
    ),
    _q(
        "challenge.intro.1",
        "intro goals",
        "Om vi sitter här om ett halvår och inget har förändrats – vad tror du har stått i vägen?",
        "If we sit here in six months and nothing has changed, what do you think got in the way?",
    ),
    _q(
        "challenge.closing.1",
        "closing goals",
        "Vad säger det du inte nådde om vad du egentligen vill?",
        "What does the part you did not reach say about what you really want?",
    ),
    _q(
        "challenge.relationship.1",
        "relationship",
        "Om du fick börja om med en annan mentor i morgon – vad skulle du vilja ha mer av?",
        "If you could start over tomorrow with another mentor, what would you want more of?",
    ),
    _q(
        "challenge.relationship.2",
        "relationship conflict",
        "Vad är det värsta som kan hända om du säger precis vad du tycker om våra möten?",
        "What is the worst that could happen if you said exactly what you think of our meetings?",
    ),
    _q(
        "challenge.career.2",
        "career confidence",
        "Vilka andra orsaker kan det finnas, utöver den du ser först?",
        "What other causes might there be, besides the one you see first?",
    ),
    _q(
        "challenge.goals.4",
        "goals",
        "Hur rimliga är dina förväntningar, utifrån var du står i dag?",
        "How reasonable are your expectations, given where you stand today?",
    ),
    _q(
        "challenge.communication.2",
        "communication conflict feedback",
        "På vilka andra sätt går det att förstå det som sades?",
        "In what other ways could what was said be understood?",
    ),
    _q(
        "challenge.conflict.2",
        "conflict",
        "Vad vet du säkert om den andras avsikter, och vad gissar du?",
        "What do you know for sure about the other person's intentions, and what are you guessing?",
    ),
    _q(
        "challenge.learning.2",
        "learning confidence",
        "Vad säger du till dig själv när något nytt går trögt, och hur sant är det?",
        "What do you tell yourself when something new goes slowly, and how true is it?",
    ),
    _q(
        "challenge.networking.2",
        "networking confidence",
        "Vad tror du att andra tänker när du hör av dig, och vad grundar du det på?",
        "What do you think others think when you get in touch, and what do you base that on?",
    ),
)

BY_ID: dict[str, Question] = {question.id: question for question in BANK}
