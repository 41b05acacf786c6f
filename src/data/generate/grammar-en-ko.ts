/**
 * A small synchronous grammar of English→Korean sentence pairs.
 *
 * One tree is generated per sentence and linearized twice: English SVO with prepositions and
 * post-nominal relative clauses, Korean SOV with particles and pre-nominal relative clauses.
 *
 *   The man who saw the dog ate three red apples in the park yesterday.
 *   개를 본 남자는 어제 공원에서 빨간 사과 세 개를 먹었다.
 *
 * Long sentences come from recursion: relative clauses inside noun phrases, "because" clauses
 * (moved before their main clause in Korean: B기 때문에 A) and main clauses joined by
 * ", and" / ", but" (Korean 고 / 지만). A sentence is grown from one bare clause by random
 * expansions until it reaches a length drawn from the corpus's length distribution.
 *
 * The English string determines the tree (so the Korean is a function of the English): relative
 * clauses take no adjuncts, coordinated noun phrases take no relative clauses, and clauses are
 * joined with a comma. Every pair also comes with its structure (nodes, words, alignment) so
 * tests can check agreement and word order without parsing.
 */
import { capitalize, indefiniteArticle, thirdSingular } from './english.ts';
import {
  adnominalForm,
  connectiveForm,
  finalForm,
  KO_NUMBERS,
  particleFor,
  type Connective,
  type ParticleKind,
  type Register,
  type Tense,
} from './korean.ts';
import {
  ADJECTIVES,
  EN_NUMBERS,
  NAMES,
  NOUNS,
  TIME_ADVERBS,
  VERBS,
  type Adjective,
  type Name,
  type Noun,
  type NounClass,
  type TimeAdverb,
  type Verb,
} from './lexicon-en-ko.ts';
import type { Rng } from './random.ts';

// ---------------------------------------------------------------------------------------------
// The tree

type Det = 'the' | 'a' | 'this' | 'that';
type Link = 'and' | 'but';

interface NP {
  head: Noun | Name;
  det: Det | null;
  count: number | null;
  adjs: Adjective[];
  rel: Rel | null;
  coord: NP | null;
}

/** A relative clause: its head noun is the missing subject or object. */
interface Rel {
  gap: 'subject' | 'object';
  verb: Verb;
  tense: Tense;
  /** The clause's other argument: its object (subject gap, transitive verb) or its subject. */
  arg: NP | null;
}

interface Clause {
  subject: NP;
  verb: Verb;
  tense: Tense;
  object: NP | null;
  recipient: NP | null;
  companion: NP | null;
  /** Where it happens (X에서), or for verbs of motion where to (X에). */
  place: NP | null;
  time: TimeAdverb | null;
  because: Clause | null;
}

interface SentenceTree {
  clauses: Clause[];
  /** links[i] joins clauses[i] and clauses[i + 1]. */
  links: Link[];
}

/** Names carry no class: a Noun is a Name with more fields, so test for the Noun. */
function isNoun(head: Noun | Name): head is Noun {
  return 'cls' in head;
}

function isPlural(np: NP): boolean {
  return np.coord !== null || (np.count ?? 1) > 1;
}

function isDefinite(np: NP): boolean {
  return !isNoun(np.head) || (np.det !== null && np.det !== 'a');
}

// ---------------------------------------------------------------------------------------------
// The structure emitted with each pair

export type NodeType = 'sentence' | 'clause' | 'relative' | 'np';
export type NodeRole =
  | 'root'
  | 'main'
  | 'because'
  | 'relative'
  | 'subject'
  | 'object'
  | 'recipient'
  | 'companion'
  | 'location'
  | 'goal'
  | 'coord';

export interface StructNode {
  id: number;
  type: NodeType;
  role: NodeRole;
  parent: number | null;
  /** clause, relative */
  tense?: Tense;
  /** relative: which argument the head noun fills */
  gap?: 'subject' | 'object';
  /** np: definite (the/this/that/a name), plural (a number above one, or coordinated) */
  definite?: boolean;
  plural?: boolean;
}

export type WordRole = 'det' | 'num' | 'adj' | 'head' | 'counter' | 'relpron' | 'verb' | 'prep' | 'conj' | 'adv' | 'with';

export interface SrcWord {
  text: string;
  /** The innermost node the word belongs to. */
  node: number;
  role: WordRole;
  /** Words with equal keys on both sides translate each other. */
  key?: string;
}

export interface TgtWord extends SrcWord {
  /** The word without its particle. */
  base: string;
  particle?: { kind: ParticleKind; form: string };
}

export interface PairStructure {
  nodes: StructNode[];
  src: SrcWord[];
  tgt: TgtWord[];
  /** [src word index, tgt word index] pairs. */
  alignment: [number, number][];
}

export interface EnKoPair {
  src: string;
  tgt: string;
  structure: PairStructure;
}

// ---------------------------------------------------------------------------------------------
// Generation

export interface EnKoOptions {
  /** Korean sentence-final style: plain 본다/봤다 or polite 봐요/봤어요. */
  register: Register;
  /** Most main clauses joined with and/but. */
  maxClauses: number;
  /** Deepest nesting of relative clauses. */
  maxRelDepth: number;
}

export const EN_KO_DEFAULTS: EnKoOptions = { register: 'plain', maxClauses: 5, maxRelDepth: 2 };

const ANIMATE: readonly NounClass[] = ['person', 'animal'];
const PLACE: readonly NounClass[] = ['place'];

// Lookups made once: growing a sentence asks them at every step.
const nounsByClasses = new Map<readonly NounClass[], Noun[]>();
function nounsOf(classes: readonly NounClass[]): Noun[] {
  let nouns = nounsByClasses.get(classes);
  if (!nouns) {
    nouns = NOUNS.filter((n) => classes.includes(n.cls));
    nounsByClasses.set(classes, nouns);
  }
  return nouns;
}
const CLASSES = [...new Set(NOUNS.map((n) => n.cls))];
const byClass = <T>(f: (c: NounClass) => T[]): Record<NounClass, T[]> =>
  Object.fromEntries(CLASSES.map((c) => [c, f(c)])) as Record<NounClass, T[]>;
const ADJECTIVES_FOR = byClass((c) => ADJECTIVES.filter((a) => a.nouns.includes(c)));
/** Verbs that take a noun of the class as subject / as object. */
const SUBJECT_OF = byClass((c) => VERBS.filter((v) => v.subj.includes(c)));
const OBJECT_OF = byClass((c) => VERBS.filter((v) => v.obj?.includes(c)));
const TIMES_FOR: Record<Tense, TimeAdverb[]> = {
  present: TIME_ADVERBS.filter((t) => t.tense !== 'past'),
  past: TIME_ADVERBS.filter((t) => t.tense !== 'present'),
};

/** Builds random trees and grows them. */
class Generator {
  constructor(
    private readonly rng: Rng,
    private readonly opts: EnKoOptions,
  ) {}

  np(classes: readonly NounClass[], exclude: Noun | Name | null = null): NP {
    const rng = this.rng;
    if (classes.includes('person') && rng.chance(0.15)) {
      let name = rng.pick(NAMES);
      if (name === exclude) name = NAMES[(NAMES.indexOf(name) + 1) % NAMES.length]!;
      return { head: name, det: null, count: null, adjs: [], rel: null, coord: null };
    }
    const nouns = nounsOf(classes);
    let noun = rng.pick(nouns);
    if (noun === exclude) noun = nouns[(nouns.indexOf(noun) + 1) % nouns.length]!;
    // Mass nouns and places take no "a" (places get no number either: they have no counter).
    const dets: [Det, number][] = noun.counter
      ? [['the', 5], ['a', 3], ['this', 1], ['that', 1]]
      : [['the', 6], ['this', 1], ['that', 1]];
    return { head: noun, det: rng.weighted(dets), count: null, adjs: [], rel: null, coord: null };
  }

  clause(): Clause {
    const verb = this.rng.pick(VERBS);
    const subject = this.np(verb.subj);
    return {
      subject,
      verb,
      tense: this.rng.chance(0.5) ? 'past' : 'present',
      object: verb.obj ? this.np(verb.obj, subject.head) : null,
      recipient: null,
      companion: null,
      place: null,
      time: null,
      because: null,
    };
  }

  rel(head: Noun): Rel | null {
    const rng = this.rng;
    const subjectGap = SUBJECT_OF[head.cls];
    const objectGap = OBJECT_OF[head.cls];
    const gap = subjectGap.length === 0 ? 'object' : objectGap.length === 0 ? 'subject' : rng.chance(0.5) ? 'subject' : 'object';
    const verbs = gap === 'subject' ? subjectGap : objectGap;
    if (verbs.length === 0) return null;
    const verb = rng.pick(verbs);
    const tense: Tense = rng.chance(0.5) ? 'past' : 'present';
    if (gap === 'object') return { gap, verb, tense, arg: this.np(verb.subj, head) };
    return { gap, verb, tense, arg: verb.obj ? this.np(verb.obj, head) : null };
  }

  /** Every way the tree can grow by one step, with weights that favour clause-level growth. */
  sites(tree: SentenceTree): { weight: number; apply: () => void }[] {
    const rng = this.rng;
    const out: { weight: number; apply: () => void }[] = [];
    const add = (weight: number, apply: () => void): void => {
      out.push({ weight, apply });
    };

    const npSites = (np: NP, allowed: readonly NounClass[], role: NodeRole, relDepth: number): void => {
      const head = np.head;
      if (isNoun(head)) {
        const used = new Set(np.adjs.map((a) => a.slot));
        const adjs = ADJECTIVES_FOR[head.cls].filter((a) => !used.has(a.slot));
        if (np.adjs.length < 2 && adjs.length > 0) {
          add(1, () => {
            np.adjs.push(rng.pick(adjs));
            np.adjs.sort((a, b) => a.slot - b.slot);
          });
        }
        if (head.counter && np.count === null && role !== 'location' && role !== 'goal') {
          add(0.6, () => {
            np.count = rng.int(1, 10);
            np.det = null;
          });
        }
        if (np.rel === null && np.coord === null && role !== 'coord' && relDepth < this.opts.maxRelDepth) {
          add(2, () => {
            np.rel = this.rel(head);
          });
        }
      }
      if (np.coord === null && np.rel === null && role !== 'coord' && role !== 'location' && role !== 'goal') {
        add(0.7, () => {
          np.coord = this.np(allowed, head);
        });
      }
      if (np.rel) {
        const r = np.rel;
        if (r.arg) npSites(r.arg, r.gap === 'subject' ? r.verb.obj! : r.verb.subj, 'subject', relDepth + 1);
      }
      if (np.coord) npSites(np.coord, allowed, 'coord', relDepth);
    };

    const clauseSites = (c: Clause, main: boolean): void => {
      npSites(c.subject, c.verb.subj, 'subject', 0);
      if (c.object) npSites(c.object, c.verb.obj!, 'object', 0);
      if (c.recipient) npSites(c.recipient, ANIMATE, 'recipient', 0);
      if (c.companion) npSites(c.companion, ANIMATE, 'companion', 0);
      if (c.place) npSites(c.place, PLACE, c.verb.motion ? 'goal' : 'location', 0);
      if (c.because) clauseSites(c.because, false);
      if (c.time === null) {
        add(0.8, () => {
          c.time = rng.pick(TIMES_FOR[c.tense]);
        });
      }
      if (c.place === null) add(1.2, () => (c.place = this.np(PLACE)));
      if (c.companion === null) add(0.6, () => (c.companion = this.np(ANIMATE, c.subject.head)));
      if (c.verb.ditransitive && c.recipient === null) add(1.5, () => (c.recipient = this.np(ANIMATE, c.subject.head)));
      if (main && c.because === null) add(1.5, () => (c.because = this.clause()));
    };

    tree.clauses.forEach((c) => clauseSites(c, true));
    if (tree.clauses.length < this.opts.maxClauses) {
      add(2.5, () => {
        tree.links.push(rng.chance(0.6) ? 'and' : 'but');
        tree.clauses.push(this.clause());
      });
    }
    return out;
  }

  /** A tree whose English has at least `minWords` words (unless it cannot grow further). */
  sentence(minWords: number): SentenceTree {
    const tree: SentenceTree = { clauses: [this.clause()], links: [] };
    while (englishLength(tree) < minWords) {
      const sites = this.sites(tree);
      if (sites.length === 0) break;
      this.rng.weighted(sites.map((s) => [s, s.weight] as const)).apply();
    }
    return tree;
  }
}

// ---------------------------------------------------------------------------------------------
// Linearization

/** Node ids in pre-order, shared by both sides. */
class NodeTable {
  readonly nodes: StructNode[] = [];
  private readonly ids = new Map<object, number>();

  add(obj: object | null, node: Omit<StructNode, 'id'>): number {
    const id = this.nodes.length;
    this.nodes.push({ id, ...node });
    if (obj) this.ids.set(obj, id);
    return id;
  }

  id(obj: object): number {
    const id = this.ids.get(obj);
    if (id === undefined) throw new Error('node not registered');
    return id;
  }

  static of(tree: SentenceTree): NodeTable {
    const t = new NodeTable();
    const root = t.add(tree, { type: 'sentence', role: 'root', parent: null });
    const np = (n: NP, role: NodeRole, parent: number): void => {
      const id = t.add(n, { type: 'np', role, parent, definite: isDefinite(n), plural: isPlural(n) });
      if (n.rel) {
        const r = t.add(n.rel, { type: 'relative', role: 'relative', parent: id, tense: n.rel.tense, gap: n.rel.gap });
        if (n.rel.arg) np(n.rel.arg, n.rel.gap === 'subject' ? 'object' : 'subject', r);
      }
      if (n.coord) np(n.coord, 'coord', id);
    };
    const clause = (c: Clause, role: 'main' | 'because', parent: number): void => {
      const id = t.add(c, { type: 'clause', role, parent, tense: c.tense });
      np(c.subject, 'subject', id);
      if (c.object) np(c.object, 'object', id);
      if (c.recipient) np(c.recipient, 'recipient', id);
      if (c.companion) np(c.companion, 'companion', id);
      if (c.place) np(c.place, c.verb.motion ? 'goal' : 'location', id);
      if (c.because) clause(c.because, 'because', id);
    };
    tree.clauses.forEach((c) => clause(c, 'main', root));
    return t;
  }
}

function enVerb(verb: Verb, tense: Tense, pluralSubject: boolean): string {
  if (tense === 'past') return verb.past;
  return pluralSubject ? verb.en : thirdSingular(verb.en);
}

/** English words of a tree, in order, each tied to its node (node 0 without a table: for counting). */
function english(tree: SentenceTree, table: NodeTable | null): SrcWord[] {
  const t = { id: (obj: object): number => (table ? table.id(obj) : 0) };
  const out: SrcWord[] = [];
  const w = (text: string, node: number, role: WordRole, key?: string): void => {
    for (const part of text.split(' ')) out.push(key ? { text: part, node, role, key } : { text: part, node, role });
  };

  const np = (n: NP): void => {
    const id = t.id(n);
    const head = n.head;
    if (!isNoun(head)) {
      w(head.en, id, 'head', `${id}.head`);
    } else {
      const next = n.adjs[0]?.en ?? head.en;
      if (n.count !== null) w(EN_NUMBERS[n.count - 1]!, id, 'num', `${id}.num`);
      else if (n.det === 'a') w(indefiniteArticle(next), id, 'det');
      else if (n.det === 'the') w('the', id, 'det');
      else if (n.det) w(n.det, id, 'det', `${id}.det`);
      for (const a of n.adjs) w(a.en, id, 'adj', `${id}.adj.${a.en}`);
      w((n.count ?? 1) > 1 ? head.plural : head.en, id, 'head', `${id}.head`);
      if (n.rel) rel(n.rel, head, isPlural(n));
    }
    if (n.coord) {
      w('and', id, 'conj');
      np(n.coord);
    }
  };

  const rel = (r: Rel, head: Noun, pluralHead: boolean): void => {
    const id = t.id(r);
    w(head.cls === 'person' ? 'who' : 'that', id, 'relpron');
    if (r.gap === 'subject') {
      w(enVerb(r.verb, r.tense, pluralHead), id, 'verb', `${id}.verb`);
      if (r.verb.objPrep) w(r.verb.objPrep, id, 'prep');
      if (r.arg) np(r.arg);
    } else {
      np(r.arg!);
      w(enVerb(r.verb, r.tense, isPlural(r.arg!)), id, 'verb', `${id}.verb`);
      if (r.verb.objPrep) w(r.verb.objPrep, id, 'prep');
    }
  };

  const clause = (c: Clause): void => {
    const id = t.id(c);
    np(c.subject);
    w(enVerb(c.verb, c.tense, isPlural(c.subject)), id, 'verb', `${id}.verb`);
    if (c.object) {
      if (c.verb.objPrep) w(c.verb.objPrep, id, 'prep');
      np(c.object);
    }
    if (c.recipient) {
      w('to', id, 'prep', `${t.id(c.recipient)}.head`);
      np(c.recipient);
    }
    if (c.companion) {
      w('with', id, 'with', `${t.id(c.companion)}.with`);
      np(c.companion);
    }
    if (c.place) {
      const place = c.place.head as Noun;
      w(c.verb.motion ?? place.prep!, id, 'prep', `${t.id(c.place)}.head`);
      np(c.place);
    }
    if (c.time) w(c.time.en, id, 'adv', `${id}.time`);
    if (c.because) {
      w('because', id, 'conj', `${t.id(c.because)}.because`);
      clause(c.because);
    }
  };

  tree.clauses.forEach((c, i) => {
    if (i > 0) w(tree.links[i - 1]!, 0, 'conj', `${t.id(tree.clauses[i - 1]!)}.verb`);
    clause(c);
  });
  return out;
}

function englishLength(tree: SentenceTree): number {
  return english(tree, null).length;
}

/** Korean words of a tree; particles are attached to the last word of their noun phrase. */
function korean(tree: SentenceTree, t: NodeTable, register: Register): TgtWord[] {
  const out: TgtWord[] = [];
  const w = (text: string, node: number, role: WordRole, key?: string): void => {
    for (const part of text.split(' ')) out.push(key ? { text: part, base: part, node, role, key } : { text: part, base: part, node, role });
  };
  const particle = (kind: ParticleKind): void => {
    const last = out[out.length - 1]!;
    const form = particleFor(kind, last.base);
    last.text = last.base + form;
    last.particle = { kind, form };
  };

  const np = (n: NP, kind: ParticleKind): void => {
    const id = t.id(n);
    const head = n.head;
    if (!isNoun(head)) {
      w(head.ko, id, 'head', `${id}.head`);
    } else {
      if (n.rel) rel(n.rel);
      if (n.det === 'this') w('이', id, 'det', `${id}.det`);
      if (n.det === 'that') w('그', id, 'det', `${id}.det`);
      n.adjs.forEach((a, i) => w(i < n.adjs.length - 1 ? a.koAnd : a.ko, id, 'adj', `${id}.adj.${a.en}`));
      w(head.ko, id, 'head', `${id}.head`);
      if (n.count !== null) {
        w(KO_NUMBERS[n.count - 1]!, id, 'num', `${id}.num`);
        w(head.counter!, id, 'counter', `${id}.num`);
      }
    }
    if (n.coord) {
      particle('and');
      np(n.coord, kind);
    } else {
      particle(kind);
    }
  };

  const rel = (r: Rel): void => {
    const id = t.id(r);
    if (r.arg) np(r.arg, r.gap === 'subject' ? 'object' : 'subject');
    w(adnominalForm(r.verb.ko, r.tense), id, 'verb', `${id}.verb`);
  };

  const clause = (c: Clause, role: 'main' | 'because', verbForm: string): void => {
    const id = t.id(c);
    if (c.because) {
      clause(c.because, 'because', connectiveForm(c.because.verb.ko, c.because.tense, 'because'));
      w('때문에', id, 'conj', `${t.id(c.because)}.because`);
    }
    np(c.subject, role === 'main' && isDefinite(c.subject) ? 'topic' : 'subject');
    if (c.time) w(c.time.ko, id, 'adv', `${id}.time`);
    if (c.place) np(c.place, c.verb.motion ? 'goal' : 'location');
    if (c.recipient) np(c.recipient, 'recipient');
    if (c.companion) {
      np(c.companion, 'and');
      w('함께', id, 'with', `${t.id(c.companion)}.with`);
    }
    if (c.object) np(c.object, 'object');
    w(verbForm, id, 'verb', `${id}.verb`);
  };

  tree.clauses.forEach((c, i) => {
    const link: Connective | undefined = tree.links[i];
    clause(c, 'main', link ? connectiveForm(c.verb.ko, c.tense, link) : finalForm(c.verb.ko, c.tense, register));
  });
  return out;
}

/** English surface: sentence case, ", and" / ", but" between clauses, a final period. */
function renderEnglish(words: readonly SrcWord[]): string {
  const text = words.map((w, i) => (i > 0 && w.node === 0 && w.role === 'conj' ? ', ' : i > 0 ? ' ' : '') + w.text).join('');
  return capitalize(text) + '.';
}

function renderKorean(words: readonly TgtWord[]): string {
  return words.map((w) => w.text).join(' ') + '.';
}

function linearize(tree: SentenceTree, register: Register): EnKoPair {
  const table = NodeTable.of(tree);
  const src = english(tree, table);
  const tgt = korean(tree, table, register);
  const alignment: [number, number][] = [];
  src.forEach((s, i) => {
    if (s.key === undefined) return;
    tgt.forEach((g, j) => {
      if (g.key === s.key) alignment.push([i, j]);
    });
  });
  return { src: renderEnglish(src), tgt: renderKorean(tgt), structure: { nodes: table.nodes, src, tgt, alignment } };
}

/** One sentence pair whose English has at least `minWords` words. */
export function generateEnKoPair(rng: Rng, minWords: number, opts: EnKoOptions = EN_KO_DEFAULTS): EnKoPair {
  return linearize(new Generator(rng, opts).sentence(minWords), opts.register);
}
