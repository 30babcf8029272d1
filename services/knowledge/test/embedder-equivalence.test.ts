import { hashedEmbedding } from '../src/domain/hashed-embedder';
import { Tokenizer } from '../src/domain/tokenizer';
import { FAULT_CORPUS, FAULT_CSV, MANUAL_MD } from './fixtures';
import { referenceEmbedding } from './reference-embedder';

describe('built-in embedder', () => {
  test('the optimised implementation gives bit-identical vectors to the reference definition', () => {
    const tokenizer = new Tokenizer();
    const texts = [
      MANUAL_MD,
      FAULT_CSV,
      '',
      '   ',
      'a',
      'ab',
      '😀😃 emoji 𠀀𠀁𠀂 扩展汉字！ＡＢＣ',
      'Ⅻ ﬁ Straße İSTANBUL ＧＢ／Ｔ　２７９３０',
      '1001.0, 1001, 1001；停充码=1001',
      '重复重复重复重复 repeated repeated',
      ...FAULT_CORPUS.map((r) => r.join(' ')),
    ];
    // Mixed BMP/non-BMP strings exercise the string-keyed trigram path.
    for (let i = 0; i < 200; i++) {
      let s = '';
      for (let j = 0; j < 30; j++) {
        const pick = [
          0x41 + ((i * j) % 50),
          0x4e00 + ((i * 31 + j * 7) % 300),
          0x1f600 + (j % 5),
          0x20000 + ((i + j) % 9),
        ];
        s += String.fromCodePoint(pick[(i + j) % pick.length]);
      }
      texts.push(s);
    }
    for (const text of texts) {
      const tokens = tokenizer.tokens(text);
      expect(hashedEmbedding(text, tokens)).toEqual(referenceEmbedding(text, tokens));
    }
  });
});
