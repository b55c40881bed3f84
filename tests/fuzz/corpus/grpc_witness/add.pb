�golden.credex.example/log
2
cCjfGpgmNn6ABxkxPZHDsbB6d/GM+nEAmy+h0PYCfhs=

— golden.credex.example/log Uc6C0mpXDYHJtJpkgzVPya8Fbld2C8qydXr0dS8+3rWPzyVTlqOWDvcRToKJ6vXmxbSVknUQjLJM11CVaS9eb6QJaQw=
— golden.witness.example C87tWQAAAABqsTuAoC3QM6cYKNgxe5MJ7/yeY9LmmztZwdqM0+TN6KBkIL1xK1K1umMr5bPJ3h3yqYzs0qygTBxo7dT/VMP3eAhXBQ==
