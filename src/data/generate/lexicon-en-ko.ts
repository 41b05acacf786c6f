/**
 * The vocabulary of the generated English→Korean corpus: real words with their Korean
 * translations. Each English word has one translation in a given construction, so the target
 * is a function of the source (a model can reach BLEU 100 in principle).
 *
 * Nouns carry a semantic class (verbs say which classes they take as subject and object, so
 * sentences make sense) and a Korean counter (마리 for animals, 명 for people …) used with
 * numbers; mass nouns have none and take no number or "a". Verbs give their Korean stem and
 * 아/어 form, from which ./korean.ts derives every other form.
 */
import type { KoVerb, Tense } from './korean.ts';

export type NounClass =
  | 'person'
  | 'animal'
  | 'food'
  | 'drink'
  | 'text'
  | 'song'
  | 'object'
  | 'container'
  | 'vehicle'
  | 'instrument'
  | 'machine'
  | 'plant'
  | 'place';

export interface Noun {
  en: string;
  plural: string;
  ko: string;
  cls: NounClass;
  /** Korean counter used with numbers (개 세 마리); absent for mass nouns. */
  counter?: string;
  /** Places: the English preposition of location ("in the park", "at the station"). */
  prep?: 'in' | 'at' | 'on';
}

export interface Name {
  en: string;
  ko: string;
}

export interface Verb {
  en: string;
  past: string;
  ko: KoVerb;
  subj: readonly NounClass[];
  /** Transitive verbs: the classes of their object. */
  obj?: readonly NounClass[];
  /** A preposition between the verb and its object in English: "wait for the bus". */
  objPrep?: 'for';
  /** Verbs of motion take a destination (X에) instead of a place of action (X에서). */
  motion?: 'to' | 'at';
  /** Takes a recipient: "gives the book to the boy" → 소년에게 책을 준다. */
  ditransitive?: boolean;
}

export interface Adjective {
  en: string;
  /** Attributive form (큰 개) and the linking form used before another adjective (크고 빨간 공). */
  ko: string;
  koAnd: string;
  /** English adjective order: opinion 1, size 2, age 3, colour 4; one per slot. */
  slot: 1 | 2 | 3 | 4;
  nouns: readonly NounClass[];
}

export interface TimeAdverb {
  en: string;
  ko: string;
  /** The tense the adverb requires, if any ("yesterday" → past). */
  tense?: Tense;
}

/** [English, Korean, counter?, irregular plural?] — regular plurals are derived. */
type NounRow = readonly [string, string, string?, string?];

function nouns(cls: NounClass, rows: readonly NounRow[]): Noun[] {
  return rows.map(([en, ko, counter, plural]) => ({
    en,
    plural: plural ?? regularPlural(en),
    ko,
    cls,
    ...(counter ? { counter } : {}),
  }));
}

function regularPlural(en: string): string {
  if (/(s|sh|ch|x|z)$/.test(en)) return en + 'es';
  if (/[^aeiou]y$/.test(en)) return en.slice(0, -1) + 'ies';
  return en + 's';
}

export const NOUNS: readonly Noun[] = [
  ...nouns('person', [
    ['man', '남자', '명', 'men'], ['woman', '여자', '명', 'women'], ['boy', '소년', '명'], ['girl', '소녀', '명'],
    ['child', '아이', '명', 'children'], ['baby', '아기', '명'], ['student', '학생', '명'], ['teacher', '선생님', '명'],
    ['doctor', '의사', '명'], ['nurse', '간호사', '명'], ['farmer', '농부', '명'], ['cook', '요리사', '명'],
    ['singer', '가수', '명'], ['friend', '친구', '명'], ['neighbor', '이웃', '명'], ['soldier', '군인', '명'],
    ['king', '왕', '명'], ['queen', '여왕', '명'], ['driver', '운전사', '명'], ['writer', '작가', '명'],
    ['painter', '화가', '명'], ['scientist', '과학자', '명'], ['lawyer', '변호사', '명'], ['customer', '손님', '명'],
    ['player', '선수', '명'], ['officer', '경찰관', '명'], ['grandmother', '할머니', '명'], ['grandfather', '할아버지', '명'],
    ['musician', '음악가', '명'], ['dancer', '무용수', '명'], ['pilot', '조종사', '명'], ['baker', '제빵사', '명'],
    ['tourist', '관광객', '명'], ['actor', '배우', '명'], ['guard', '경비원', '명'],
  ]),
  ...nouns('animal', [
    ['dog', '개', '마리'], ['cat', '고양이', '마리'], ['bird', '새', '마리'], ['horse', '말', '마리'],
    ['cow', '소', '마리'], ['pig', '돼지', '마리'], ['rabbit', '토끼', '마리'], ['tiger', '호랑이', '마리'],
    ['bear', '곰', '마리'], ['monkey', '원숭이', '마리'], ['mouse', '쥐', '마리', 'mice'], ['fish', '물고기', '마리', 'fish'],
    ['duck', '오리', '마리'], ['chicken', '닭', '마리'], ['sheep', '양', '마리', 'sheep'], ['elephant', '코끼리', '마리'],
    ['lion', '사자', '마리'], ['wolf', '늑대', '마리', 'wolves'], ['fox', '여우', '마리'], ['snake', '뱀', '마리'],
    ['frog', '개구리', '마리'], ['deer', '사슴', '마리', 'deer'], ['goat', '염소', '마리'], ['owl', '부엉이', '마리'],
    ['turtle', '거북이', '마리'], ['puppy', '강아지', '마리'], ['squirrel', '다람쥐', '마리'],
  ]),
  ...nouns('food', [
    ['apple', '사과', '개'], ['banana', '바나나', '개'], ['orange', '오렌지', '개'], ['pear', '배', '개'],
    ['peach', '복숭아', '개'], ['strawberry', '딸기', '개'], ['egg', '달걀', '개'], ['cake', '케이크', '개'],
    ['cookie', '쿠키', '개'], ['sandwich', '샌드위치', '개'], ['potato', '감자', '개', 'potatoes'], ['tomato', '토마토', '개', 'tomatoes'],
    ['carrot', '당근', '개'], ['watermelon', '수박', '통'], ['pizza', '피자', '판'], ['candy', '사탕', '개'],
    ['onion', '양파', '개'], ['lemon', '레몬', '개'], ['hamburger', '햄버거', '개'], ['pie', '파이', '개'],
    ['bread', '빵'], ['rice', '밥'], ['soup', '수프'], ['meat', '고기'], ['cheese', '치즈'], ['salad', '샐러드'],
  ]),
  ...nouns('drink', [
    ['water', '물'], ['milk', '우유'], ['coffee', '커피'], ['juice', '주스'], ['tea', '차'],
    ['wine', '와인'], ['beer', '맥주'], ['lemonade', '레모네이드'],
  ]),
  ...nouns('text', [
    ['book', '책', '권'], ['letter', '편지', '통'], ['newspaper', '신문', '부'], ['magazine', '잡지', '권'],
    ['map', '지도', '장'], ['note', '쪽지', '장'], ['card', '카드', '장'], ['ticket', '표', '장'],
    ['photo', '사진', '장'], ['poem', '시', '편'], ['story', '이야기', '편'], ['report', '보고서', '부'],
    ['postcard', '엽서', '장'], ['diary', '일기장', '권'], ['novel', '소설', '권'], ['dictionary', '사전', '권'],
  ]),
  ...nouns('song', [['song', '노래', '곡'], ['lullaby', '자장가', '곡']]),
  ...nouns('object', [
    ['ball', '공', '개'], ['key', '열쇠', '개'], ['cup', '컵', '개'], ['chair', '의자', '개'],
    ['table', '탁자', '개'], ['hat', '모자', '개'], ['umbrella', '우산', '개'], ['pen', '펜', '자루'],
    ['pencil', '연필', '자루'], ['watch', '손목시계', '개'], ['toy', '장난감', '개'], ['gift', '선물', '개'],
    ['ring', '반지', '개'], ['knife', '칼', '자루', 'knives'], ['spoon', '숟가락', '개'], ['plate', '접시', '개'],
    ['bed', '침대', '개'], ['desk', '책상', '개'], ['lamp', '램프', '개'], ['shirt', '셔츠', '벌'],
    ['coat', '외투', '벌'], ['dress', '드레스', '벌'], ['candle', '양초', '개'], ['mirror', '거울', '개'],
    ['stone', '돌', '개'], ['doll', '인형', '개'], ['brush', '붓', '자루'], ['kite', '연', '개'],
    ['pillow', '베개', '개'], ['blanket', '담요', '장'], ['towel', '수건', '장'], ['comb', '빗', '개'],
    ['wallet', '지갑', '개'], ['necklace', '목걸이', '개'], ['button', '단추', '개'], ['rope', '밧줄', '개'],
  ]),
  ...nouns('container', [
    ['box', '상자', '개'], ['bag', '가방', '개'], ['basket', '바구니', '개'], ['bottle', '병', '개'],
    ['door', '문', '개'], ['window', '창문', '개'], ['drawer', '서랍', '개'], ['jar', '단지', '개'],
    ['envelope', '봉투', '장'], ['refrigerator', '냉장고', '대'],
  ]),
  ...nouns('vehicle', [
    ['car', '자동차', '대'], ['bus', '버스', '대'], ['train', '기차', '대'], ['bicycle', '자전거', '대'],
    ['truck', '트럭', '대'], ['taxi', '택시', '대'], ['boat', '보트', '척'], ['motorcycle', '오토바이', '대'],
    ['airplane', '비행기', '대'], ['tractor', '트랙터', '대'],
  ]),
  ...nouns('instrument', [['piano', '피아노', '대'], ['guitar', '기타', '대'], ['drum', '드럼', '개']]),
  ...nouns('machine', [
    ['camera', '카메라', '대'], ['computer', '컴퓨터', '대'], ['phone', '전화기', '대'], ['radio', '라디오', '대'],
    ['television', '텔레비전', '대'], ['clock', '시계', '개'],
  ]),
  ...nouns('plant', [
    ['flower', '꽃', '송이'], ['tree', '나무', '그루'], ['rose', '장미', '송이'], ['tulip', '튤립', '송이'],
    ['cactus', '선인장', '개', 'cacti'], ['leaf', '나뭇잎', '장', 'leaves'], ['mushroom', '버섯', '개'], ['seed', '씨앗', '개'],
  ]),
  ...places([
    ['park', '공원', 'in'], ['school', '학교', 'at'], ['library', '도서관', 'in'], ['market', '시장', 'at'],
    ['hospital', '병원', 'at'], ['station', '역', 'at'], ['river', '강', 'at'], ['beach', '해변', 'on'],
    ['garden', '정원', 'in'], ['kitchen', '부엌', 'in'], ['restaurant', '식당', 'at'], ['office', '사무실', 'in'],
    ['church', '교회', 'at'], ['museum', '박물관', 'at'], ['zoo', '동물원', 'at'], ['forest', '숲', 'in'],
    ['village', '마을', 'in'], ['city', '도시', 'in'], ['street', '거리', 'on'], ['store', '가게', 'at'],
    ['bank', '은행', 'at'], ['airport', '공항', 'at'], ['hotel', '호텔', 'at'], ['farm', '농장', 'on'],
    ['classroom', '교실', 'in'], ['mountain', '산', 'on'], ['house', '집', 'in'], ['bakery', '빵집', 'at'],
    ['cafe', '카페', 'at'], ['theater', '극장', 'at'], ['playground', '놀이터', 'on'], ['lake', '호수', 'at'],
    ['island', '섬', 'on'], ['bridge', '다리', 'on'], ['harbor', '항구', 'at'],
  ]),
];

function places(rows: readonly (readonly [string, string, 'in' | 'at' | 'on'])[]): Noun[] {
  return rows.map(([en, ko, prep]) => ({ en, plural: regularPlural(en), ko, cls: 'place', prep }));
}

/** People's names: no article, no modifiers. */
export const NAMES: readonly Name[] = [
  { en: 'Minsu', ko: '민수' }, { en: 'Jiyoung', ko: '지영' }, { en: 'Cheolsu', ko: '철수' },
  { en: 'Younghee', ko: '영희' }, { en: 'Junho', ko: '준호' }, { en: 'Seoyeon', ko: '서연' },
  { en: 'Hyunwoo', ko: '현우' }, { en: 'Sujin', ko: '수진' }, { en: 'Dongmin', ko: '동민' },
  { en: 'Eunji', ko: '은지' }, { en: 'Jisung', ko: '지성' }, { en: 'Mina', ko: '미나' },
];

const ANIMATE: readonly NounClass[] = ['person', 'animal'];
const PERSON: readonly NounClass[] = ['person'];
const GOODS: readonly NounClass[] = ['food', 'drink', 'object', 'container', 'text', 'vehicle', 'instrument', 'machine', 'plant'];

function v(en: string, past: string, stem: string, inf: string, subj: readonly NounClass[], extra: Partial<Verb> = {}): Verb {
  return { en, past, ko: { stem, inf }, subj, ...extra };
}

export const VERBS: readonly Verb[] = [
  // transitive
  v('see', 'saw', '보', '봐', ANIMATE, { obj: [...ANIMATE, ...GOODS, 'place'] }),
  v('watch', 'watched', '지켜보', '지켜봐', ANIMATE, { obj: [...ANIMATE, 'vehicle'] }),
  v('eat', 'ate', '먹', '먹어', ANIMATE, { obj: ['food'] }),
  v('drink', 'drank', '마시', '마셔', ANIMATE, { obj: ['drink'] }),
  v('read', 'read', '읽', '읽어', PERSON, { obj: ['text'] }),
  v('write', 'wrote', '쓰', '써', PERSON, { obj: ['text', 'song'] }),
  v('buy', 'bought', '사', '사', PERSON, { obj: GOODS }),
  v('sell', 'sold', '팔', '팔아', PERSON, { obj: GOODS }),
  v('make', 'made', '만들', '만들어', PERSON, { obj: ['food', 'drink', 'object', 'container'] }),
  v('like', 'liked', '좋아하', '좋아해', ANIMATE, { obj: [...ANIMATE, ...GOODS, 'song', 'place'] }),
  v('love', 'loved', '사랑하', '사랑해', PERSON, { obj: ANIMATE }),
  v('find', 'found', '찾', '찾아', ANIMATE, { obj: [...ANIMATE, 'object', 'container', 'text', 'food'] }),
  v('lose', 'lost', '잃어버리', '잃어버려', PERSON, { obj: ['object', 'text', 'container'] }),
  v('carry', 'carried', '나르', '날라', PERSON, { obj: ['object', 'container', 'food', 'drink', 'text', 'plant', 'instrument'] }),
  v('open', 'opened', '열', '열어', PERSON, { obj: ['container'] }),
  v('close', 'closed', '닫', '닫아', PERSON, { obj: ['container'] }),
  v('wash', 'washed', '씻', '씻어', PERSON, { obj: ['food', 'object', 'container'] }),
  v('clean', 'cleaned', '청소하', '청소해', PERSON, { obj: ['place'] }),
  v('paint', 'painted', '칠하', '칠해', PERSON, { obj: ['object', 'container', 'vehicle', 'place'] }),
  v('draw', 'drew', '그리', '그려', PERSON, { obj: [...ANIMATE, 'plant', 'place', 'object', 'vehicle'] }),
  v('catch', 'caught', '잡', '잡아', ANIMATE, { obj: ['animal', 'object'] }),
  v('chase', 'chased', '쫓', '쫓아', ANIMATE, { obj: [...ANIMATE, 'vehicle'] }),
  v('lift', 'lifted', '들', '들어', PERSON, { obj: ['object', 'container', 'instrument', 'machine', 'animal'] }),
  v('throw', 'threw', '던지', '던져', PERSON, { obj: ['object', 'food'] }),
  v('kick', 'kicked', '차', '차', ANIMATE, { obj: ['object', 'container'] }),
  v('push', 'pushed', '밀', '밀어', ANIMATE, { obj: [...ANIMATE, 'vehicle', 'object', 'container'] }),
  v('pull', 'pulled', '당기', '당겨', ANIMATE, { obj: ['object', 'container', 'vehicle'] }),
  v('help', 'helped', '도와주', '도와줘', ANIMATE, { obj: ANIMATE }),
  v('meet', 'met', '만나', '만나', PERSON, { obj: PERSON }),
  v('call', 'called', '부르', '불러', PERSON, { obj: ANIMATE }),
  v('visit', 'visited', '방문하', '방문해', PERSON, { obj: ['place', 'person'] }),
  v('teach', 'taught', '가르치', '가르쳐', PERSON, { obj: PERSON }),
  v('bring', 'brought', '가져오', '가져와', PERSON, { obj: ['object', 'container', 'food', 'drink', 'text', 'instrument', 'plant'] }),
  v('send', 'sent', '보내', '보내', PERSON, { obj: ['text', 'object', 'container'], ditransitive: true }),
  v('give', 'gave', '주', '줘', PERSON, { obj: ['food', 'drink', 'object', 'text', 'plant', 'container'], ditransitive: true }),
  v('show', 'showed', '보여주', '보여줘', PERSON, { obj: ['object', 'text', 'plant', 'machine'], ditransitive: true }),
  v('receive', 'received', '받', '받아', PERSON, { obj: ['text', 'object', 'plant', 'container'] }),
  v('forget', 'forgot', '잊', '잊어', PERSON, { obj: ['person', 'text', 'object', 'place', 'song'] }),
  v('remember', 'remembered', '기억하', '기억해', PERSON, { obj: [...ANIMATE, 'place', 'text', 'song'] }),
  v('know', 'knew', '알', '알아', PERSON, { obj: ['person', 'place', 'song'] }),
  v('want', 'wanted', '원하', '원해', ANIMATE, { obj: GOODS }),
  v('hit', 'hit', '때리', '때려', ANIMATE, { obj: [...ANIMATE, 'object'] }),
  v('cook', 'cooked', '요리하', '요리해', PERSON, { obj: ['food'] }),
  v('sing', 'sang', '부르', '불러', PERSON, { obj: ['song'] }),
  v('play', 'played', '치', '쳐', PERSON, { obj: ['instrument'] }),
  v('fix', 'fixed', '고치', '고쳐', PERSON, { obj: ['vehicle', 'instrument', 'machine', 'object', 'container'] }),
  v('borrow', 'borrowed', '빌리', '빌려', PERSON, { obj: ['text', 'object', 'vehicle', 'instrument', 'machine'] }),
  v('hide', 'hid', '숨기', '숨겨', ANIMATE, { obj: ['object', 'food', 'text', 'container'] }),
  v('wait', 'waited', '기다리', '기다려', ANIMATE, { obj: [...ANIMATE, 'vehicle'], objPrep: 'for' }),
  v('follow', 'followed', '따라가', '따라가', ANIMATE, { obj: [...ANIMATE, 'vehicle'] }),
  v('wake', 'woke', '깨우', '깨워', ANIMATE, { obj: ANIMATE }),
  v('touch', 'touched', '만지', '만져', ANIMATE, { obj: ['animal', 'object', 'plant', 'instrument', 'container', 'machine'] }),
  v('hug', 'hugged', '안', '안아', PERSON, { obj: ANIMATE }),
  v('bite', 'bit', '물', '물어', ['animal'], { obj: [...ANIMATE, 'object', 'food'] }),
  v('choose', 'chose', '고르', '골라', PERSON, { obj: GOODS }),
  v('drop', 'dropped', '떨어뜨리', '떨어뜨려', ANIMATE, { obj: ['object', 'container', 'food', 'text'] }),
  v('plant', 'planted', '심', '심어', PERSON, { obj: ['plant'] }),
  // intransitive
  v('run', 'ran', '달리', '달려', ANIMATE),
  v('sleep', 'slept', '자', '자', ANIMATE),
  v('walk', 'walked', '산책하', '산책해', ANIMATE),
  v('swim', 'swam', '수영하', '수영해', ANIMATE),
  v('sing', 'sang', '노래하', '노래해', ANIMATE),
  v('dance', 'danced', '춤추', '춤춰', PERSON),
  v('laugh', 'laughed', '웃', '웃어', PERSON),
  v('cry', 'cried', '울', '울어', ANIMATE),
  v('work', 'worked', '일하', '일해', PERSON),
  v('play', 'played', '놀', '놀아', ANIMATE),
  v('wait', 'waited', '기다리', '기다려', ANIMATE),
  v('sit', 'sat', '앉', '앉아', ANIMATE),
  v('rest', 'rested', '쉬', '쉬어', ANIMATE),
  v('study', 'studied', '공부하', '공부해', PERSON),
  v('jump', 'jumped', '뛰', '뛰어', ANIMATE),
  v('shout', 'shouted', '소리치', '소리쳐', PERSON),
  v('hide', 'hid', '숨', '숨어', ANIMATE),
  v('go', 'went', '가', '가', ANIMATE, { motion: 'to' }),
  v('come', 'came', '오', '와', ANIMATE, { motion: 'to' }),
  v('return', 'returned', '돌아가', '돌아가', ANIMATE, { motion: 'to' }),
  v('arrive', 'arrived', '도착하', '도착해', PERSON, { motion: 'at' }),
];

const ALL_NOUNS: readonly NounClass[] = [...ANIMATE, ...GOODS, 'song', 'place'];
const THINGS: readonly NounClass[] = ['object', 'container', 'vehicle', 'instrument', 'machine'];

function adj(en: string, ko: string, koAnd: string, slot: Adjective['slot'], nouns: readonly NounClass[]): Adjective {
  return { en, ko, koAnd, slot, nouns };
}

export const ADJECTIVES: readonly Adjective[] = [
  adj('beautiful', '아름다운', '아름답고', 1, ['person', 'animal', 'plant', 'place', 'object', 'song']),
  adj('pretty', '예쁜', '예쁘고', 1, ['person', 'animal', 'plant', 'object', 'container']),
  adj('kind', '친절한', '친절하고', 1, ['person']),
  adj('smart', '똑똑한', '똑똑하고', 1, ANIMATE),
  adj('lazy', '게으른', '게으르고', 1, ANIMATE),
  adj('brave', '용감한', '용감하고', 1, ANIMATE),
  adj('strange', '이상한', '이상하고', 1, ALL_NOUNS),
  adj('famous', '유명한', '유명하고', 1, ['person', 'place', 'text', 'song']),
  adj('delicious', '맛있는', '맛있고', 1, ['food', 'drink']),
  adj('cute', '귀여운', '귀엽고', 1, ['animal', 'object']),
  adj('expensive', '비싼', '비싸고', 1, [...THINGS, 'food', 'drink']),
  adj('cheap', '싼', '싸고', 1, [...THINGS, 'food', 'drink']),
  adj('busy', '바쁜', '바쁘고', 1, ['person', 'place']),
  adj('quiet', '조용한', '조용하고', 1, ['person', 'animal', 'place']),
  adj('noisy', '시끄러운', '시끄럽고', 1, ['person', 'animal', 'place', 'machine', 'vehicle']),
  adj('happy', '행복한', '행복하고', 1, ANIMATE),
  adj('sad', '슬픈', '슬프고', 1, [...ANIMATE, 'song', 'text']),
  adj('tired', '피곤한', '피곤하고', 1, ANIMATE),
  adj('hungry', '배고픈', '배고프고', 1, ANIMATE),
  adj('angry', '화난', '화나고', 1, ANIMATE),
  adj('dirty', '더러운', '더럽고', 1, [...THINGS, 'place', 'animal']),
  adj('clean', '깨끗한', '깨끗하고', 1, [...THINGS, 'place']),
  adj('fresh', '신선한', '신선하고', 1, ['food', 'drink', 'plant']),
  adj('hot', '뜨거운', '뜨겁고', 1, ['food', 'drink']),
  adj('cold', '차가운', '차갑고', 1, ['food', 'drink']),
  adj('heavy', '무거운', '무겁고', 1, ['object', 'container', 'text', 'instrument', 'machine']),
  adj('light', '가벼운', '가볍고', 1, ['object', 'container', 'machine']),
  adj('big', '큰', '크고', 2, ALL_NOUNS.filter((c) => c !== 'drink' && c !== 'song')),
  adj('small', '작은', '작고', 2, ALL_NOUNS.filter((c) => c !== 'drink' && c !== 'song')),
  adj('long', '긴', '길고', 2, ['object', 'text', 'vehicle', 'song']),
  adj('short', '짧은', '짧고', 2, ['text', 'song', 'object']),
  adj('fast', '빠른', '빠르고', 2, ['animal', 'vehicle']),
  adj('old', '오래된', '오래되고', 3, [...THINGS, 'text', 'place', 'plant', 'song']),
  adj('new', '새로운', '새롭고', 3, [...THINGS, 'text', 'place', 'song']),
  adj('young', '젊은', '젊고', 3, ['person']),
  adj('red', '빨간', '빨갛고', 4, ['object', 'container', 'vehicle', 'plant', 'food']),
  adj('blue', '파란', '파랗고', 4, ['object', 'container', 'vehicle']),
  adj('white', '하얀', '하얗고', 4, ['animal', 'object', 'container', 'vehicle', 'plant']),
  adj('black', '검은', '검고', 4, ['animal', 'object', 'container', 'vehicle']),
  adj('yellow', '노란', '노랗고', 4, ['object', 'container', 'vehicle', 'plant', 'food']),
  adj('green', '초록색', '초록색이고', 4, ['object', 'container', 'vehicle', 'food']),
];

export const TIME_ADVERBS: readonly TimeAdverb[] = [
  { en: 'yesterday', ko: '어제', tense: 'past' },
  { en: 'last night', ko: '어젯밤', tense: 'past' },
  { en: 'last week', ko: '지난주에', tense: 'past' },
  { en: 'today', ko: '오늘' },
  { en: 'now', ko: '지금', tense: 'present' },
  { en: 'every day', ko: '매일', tense: 'present' },
  { en: 'every morning', ko: '매일 아침', tense: 'present' },
  { en: 'in the morning', ko: '아침에' },
  { en: 'at night', ko: '밤에' },
];

/** English cardinal numbers 1..10, paired with KO_NUMBERS in ./korean.ts. */
export const EN_NUMBERS: readonly string[] = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
