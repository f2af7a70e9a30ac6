import { describe, expect, it } from 'vitest';
import { toCsv } from './csv';

describe('toCsv', () => {
  it('quotes what needs quoting and leaves missing values empty', () => {
    expect(toCsv(['a', 'b'], [[1, 'x,y'], [null, 'say "hi"'], [NaN, true]])).toBe(
      'a,b\r\n1,"x,y"\r\n,"say ""hi"""\r\n,true\r\n',
    );
  });
});
