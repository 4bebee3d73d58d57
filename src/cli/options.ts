/** Option parsers shared by the commands: a bad value is a usage error that says the range. */
import { InvalidArgumentError, Option } from 'commander';

export function intOption(flags: string, description: string, min: number, max: number): Option {
  return new Option(flags, description).argParser((v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return n;
  });
}

export function numberOption(flags: string, description: string, min: number, maxExclusive: number, minExclusive = false): Option {
  return new Option(flags, description).argParser((v: string) => {
    const n = Number(v);
    const low = minExclusive ? n <= min : n < min;
    if (!Number.isFinite(n) || low || n >= maxExclusive)
      throw new InvalidArgumentError(`expected a number in ${minExclusive ? '(' : '['}${min}, ${maxExclusive}).`);
    return n;
  });
}
